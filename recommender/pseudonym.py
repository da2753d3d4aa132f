"""Keyed pseudonyms for people (HMAC-SHA256 of the normalised NIP).

The NIP exists only in raw input and at the API edge; everything downstream uses the pseudonym.
The same key must be used by ingest and by the service, or ids will not match.
"""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd

PREFIX = "e_"
DIGEST_CHARS = 20  # 80 bits: collisions are negligible for tens of millions of people


def pseudonymise(identifier: str, key: str) -> str:
    """Return the pseudonym of one identifier (a normalised NIP or a learner id).

    >>> pseudonymise("198501012010011001", "k")[:2]
    'e_'
    """
    digest = hmac.new(key.encode(), identifier.encode(), hashlib.sha256).hexdigest()
    return PREFIX + digest[:DIGEST_CHARS]


def pseudonymise_series(ids: pd.Series, key: str) -> pd.Series:
    """Pseudonymise a column of identifiers; missing values stay missing. Same index as input."""
    uniques = ids.dropna().astype(str).unique()
    mapping = {u: pseudonymise(u, key) for u in uniques}
    return ids.map(lambda v: mapping.get(str(v)) if pd.notna(v) else None)
