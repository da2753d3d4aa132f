"""Keyed pseudonyms for people (HMAC-SHA256 of the normalised NIP).

The NIP exists only in raw input and at the API edge; everything downstream uses the pseudonym.
The same key must be used by ingest and by the service, or ids will not match.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

import pandas as pd

PREFIX = "e_"
#: 16 base-32 characters = 80 bits: collisions are negligible for tens of millions of people.
#: Base 32 (a-z, 2-7) rather than hex, so a pseudonym never looks like an 18-digit NIP.
DIGEST_CHARS = 16


def pseudonymise(identifier: str, key: str) -> str:
    """Return the pseudonym of one identifier (a normalised NIP or a learner id).

    >>> pseudonymise("198501012010011001", "k")[:2]
    'e_'
    """
    digest = hmac.new(key.encode(), identifier.encode(), hashlib.sha256).digest()
    return PREFIX + base64.b32encode(digest).decode().lower()[:DIGEST_CHARS]


def pseudonymise_series(ids: pd.Series, key: str) -> pd.Series:
    """Pseudonymise a column of identifiers; missing values stay missing. Same index as input."""
    mapping = {u: pseudonymise(u, key) for u in ids.dropna().astype(str).unique()}
    values = [mapping[str(v)] if pd.notna(v) else None for v in ids]
    return pd.Series(values, index=ids.index, dtype=object, name=ids.name)
