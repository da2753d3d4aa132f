"""NIP (Nomor Induk Pegawai) of ASN civil servants: decode, check and normalise.

Layout (Perka BKN 22/2007, the 18-digit NIP): ``YYYYMMDD`` birth date, ``YYYYMM`` month of
appointment as CPNS, one sex digit (1 male, 2 female), ``NNN`` sequence number. Unlike the NIK
(ID card), 40 is *not* added to the birth day of women. The birth date must lie between
1940-01-01 and today; the appointment month must be 1-12, not in the future, and in a year at
least 18 after the birth year. Error messages never contain the NIP or any part of it (it is
personal data). A float NIP is rejected: 18 digits do not fit in a float, so its last digits
are already lost.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
from typing import Any, Final, NamedTuple

import numpy as np

from recommender.data.parsing import AnySeries, Parsed, is_number, normalize_with

_NIP_LENGTH: Final = 18
_NIP_MIN_BIRTH: Final = dt.date(1940, 1, 1)
_NIP_SEPARATORS = re.compile(r"[\s.\-]+")


class NipParts(NamedTuple):
    """Fields encoded in an 18-digit NIP."""

    birth_date: dt.date
    appointed: dt.date  # first day of the month of appointment as CPNS
    sex: str  # 'L' male, 'P' female
    sequence: int


def _today() -> dt.date:
    return dt.date.today()


def _nip_digits(nip: str) -> str:
    """Strip separators (spaces, dots, dashes, a leading apostrophe); check 18 digits."""
    digits = _NIP_SEPARATORS.sub("", nip.strip().lstrip("'"))
    if not digits.isascii() or not digits.isdigit():
        raise ValueError("NIP must contain only digits, spaces, dots or dashes")
    if len(digits) != _NIP_LENGTH:
        raise ValueError(f"NIP must have {_NIP_LENGTH} digits, found {len(digits)}")
    return digits


def _nip_birth(digits: str) -> dt.date:
    try:
        birth = dt.date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise ValueError("NIP birth date is not a valid date") from None
    if not _NIP_MIN_BIRTH <= birth <= _today():
        raise ValueError("NIP birth date is not between 1940 and today")
    return birth


def _nip_appointed(digits: str, birth: dt.date) -> dt.date:
    year, month = int(digits[8:12]), int(digits[12:14])
    if not 1 <= month <= 12:
        raise ValueError("NIP appointment month is not valid")
    if year < birth.year + 18:
        raise ValueError("NIP appointment is less than 18 years after birth")
    appointed = dt.date(year, month, 1)
    if appointed > _today():
        raise ValueError("NIP appointment month is in the future")
    return appointed


def nip_parts(nip: str) -> NipParts:
    """Decode an NIP (18 digits, spaces/dots/dashes allowed) into its :class:`NipParts`.

    Raises ValueError when the NIP is invalid; the message never contains the NIP or any part
    of it.
    """
    digits = _nip_digits(nip)
    birth = _nip_birth(digits)
    appointed = _nip_appointed(digits, birth)
    sex = {"1": "L", "2": "P"}.get(digits[14])
    if sex is None:
        raise ValueError("NIP sex digit must be 1 or 2")
    return NipParts(birth, appointed, sex, int(digits[15:]))


def _parse_nip(raw: Any) -> str:
    if isinstance(raw, bool | np.bool_):
        raise ValueError("NIP must be text or an integer, not a boolean")
    if isinstance(raw, numbers.Integral):
        raw = str(int(raw))
    elif is_number(raw):
        raise ValueError("NIP must be text or an integer, not a float (its digits may be lost)")
    digits = _nip_digits(str(raw))
    nip_parts(digits)
    return digits


def parse_nip(raw: str | int) -> str:
    """One NIP (text with optional spaces/dots/dashes, or an integer) -> its 18 digits.

    Raises ValueError (the message never contains the NIP) when it is not a valid NIP.
    """
    return _parse_nip(raw)


def normalize_nip(s: AnySeries) -> Parsed:
    """Normalise NIPs (text with optional spaces/dots/dashes, or integers) to 18-digit strings.

    Input: Series of str/int. Output values: object Series of 18-digit str, None if missing or
    invalid. Error messages never contain the NIP. Never raises on bad values.
    """
    return normalize_with(s, _parse_nip)


__all__ = [
    "NipParts",
    "nip_parts",
    "normalize_nip",
    "parse_nip",
]
