"""The identity functions of the event parser, bound to the service's pseudonym key."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Final, NamedTuple

import pandas as pd

from recommender.data.normalize import normalize_nip
from recommender.pseudonym import DIGEST_CHARS
from recommender.pseudonym import pseudonymise as _pseudonymise_nip

#: Prefix of keyed hashes of xAPI actors that are not employees (pseudonyms start with ``e_``).
ACTOR_PREFIX: Final = "a_"


class IdentityFunctions(NamedTuple):
    """The two functions :func:`parse_batch` needs, bound to one pseudonym key."""

    #: identifier as the LMS sends it -> employee pseudonym, or None when it is not a valid NIP.
    pseudonymise: Callable[[str], str | None]
    #: IFI text (see the module docstring) -> keyed hash ``a_...``.
    hash_ifi: Callable[[str], str]


def identity_functions(key: str) -> IdentityFunctions:
    """Bind the NIP pseudonymiser and the actor hasher to ``key`` (the service's pseudonym key).

    ``pseudonymise`` normalises the NIP exactly as ingest does (spaces, dots, dashes allowed; the
    date and sex digits checked) and returns ``recommender.pseudonym.pseudonymise(nip, key)``, so
    ids match the clean tables; it never raises. ``hash_ifi`` is HMAC-SHA256 under ``key`` with a
    domain prefix, so it never equals a pseudonym.
    """

    def pseudonymise(identifier: str) -> str | None:
        nip = normalize_nip(pd.Series([identifier], dtype=object)).values.iloc[0]
        return None if nip is None else _pseudonymise_nip(str(nip), key)

    def hash_ifi(ifi: str) -> str:
        digest = hmac.new(key.encode(), b"xapi-actor\x00" + ifi.encode(), hashlib.sha256).digest()
        return ACTOR_PREFIX + base64.b32encode(digest).decode().lower()[:DIGEST_CHARS]

    return IdentityFunctions(pseudonymise, hash_ifi)
