"""Normalise messy columns of ASN (Indonesian civil servant) HR exports, one column at a time.

Every ``normalize_*`` function takes one :class:`pandas.Series` holding strings, numbers (e.g. an
int column read from Parquet) or already-typed values, and returns a :class:`Parsed` pair of
Series with the input's index and name:

* ``values``: the canonical value, missing (``None`` / ``NaT``) where the input is missing or
  invalid;
* ``errors``: dtype object, ``None`` where fine, else a short English message.

They never raise on bad values. The work is done once per distinct value (``pd.factorize``) and
mapped back with NumPy indexing, so a column of millions of rows with few distinct values is
cheap. Missing input (``None``, NaN, NaT, ``pd.NA``, empty or whitespace-only strings; see
:func:`is_missing`) gives a missing value and no error: nullability is checked elsewhere.

Modules (this one re-exports their public names)
------------------------------------------------
* :mod:`recommender.data.parsing`: :class:`Parsed`, :func:`is_missing` and the shared machinery;
* :mod:`recommender.data.nip`: NIP; :mod:`recommender.data.grades`: golongan/ruang and pangkat;
* :mod:`recommender.data.dates`: dates; :mod:`recommender.data.modalities`: training types;
* :mod:`recommender.data.labels`: ratings, sex, education levels, booleans.

Sources
-------
* NIP layout (Perka BKN 22/2007, the 18-digit NIP): ``YYYYMMDD`` birth date, ``YYYYMM`` month of
  appointment as CPNS, one sex digit (1 male, 2 female), ``NNN`` sequence number. Unlike the NIK
  (ID card), 40 is *not* added to the birth day of women.
* Grades (golongan/ruang) and rank titles (pangkat): PP 99/2000, I/a-I/d, II/a-II/d, III/a-III/d,
  IV/a-IV/e.
* Performance rating (predikat kinerja): PermenPANRB 6/2022 matrix, Sangat Baik, Baik, Butuh
  Perbaikan, Kurang/Misconduct, Sangat Kurang.
* Legacy rating scale (PP 46/2011, in force before 2022): Sangat Baik >= 91, Baik 76-90,
  Cukup 61-75, Kurang 51-60, Buruk <= 50.
* Training modalities: Peraturan LAN 10/2018 (classical and non-classical learning paths).

Assumptions
-----------
* NIP: the birth date must lie between 1940-01-01 and today; the appointment month must be 1-12,
  not in the future, and in a year at least 18 after the birth year. Error messages never contain
  the NIP or any part of it (it is personal data). A float NIP is rejected: 18 digits do not fit
  in a float, so its last digits are already lost.
* Grades: the roman number may be written in arabic digits (``3d``); "Tk.", "Tk", "Tkt" and
  "Tingkat" are the same word; a rank title alone gives its grade; a title and a grade that
  disagree are an error.
* Ratings, legacy labels mapped to the 2022 scale: ``Amat Baik`` (older DP3 wording) -> Sangat
  Baik, ``Cukup`` -> Butuh Perbaikan, ``Kurang`` -> Kurang, ``Buruk`` -> Sangat Kurang;
  ``Misconduct`` and ``Kurang/Misconduct`` -> Kurang.
* Legacy numeric scores 0-100 (number or text, comma or dot decimals) use the PP 46/2011 bands
  with the gaps closed: >= 91 Sangat Baik, >= 76 Baik, >= 61 Butuh Perbaikan, >= 51 Kurang,
  otherwise Sangat Kurang; scores outside 0-100 are errors.
* Dates: when the year is last the day comes first (``05/06/2023`` is 5 June); a time part is
  dropped (dates are normalised to midnight, time zones dropped keeping the local wall time);
  years outside 1900-2100 are errors; bare numbers (e.g. Excel serials) are errors.
* Modalities: free text is matched on a key with case, punctuation and spaces removed, then by a
  fuzzy match (``difflib``, cutoff 0.85) for typos. Leadership-training aliases carrying a level
  (``PIM IV``, ``PKN II``) take no part in the fuzzy match, so ``PKN III`` is an error rather
  than a guess.
"""

from recommender.data.dates import normalize_date
from recommender.data.grades import GRADES, RANK_TITLES, grade_rank, normalize_grade
from recommender.data.labels import (
    EDUCATION_LEVELS,
    RATINGS,
    normalize_bool,
    normalize_education,
    normalize_rating,
    normalize_sex,
)
from recommender.data.modalities import MODALITIES, Modality, normalize_modality
from recommender.data.nip import NipParts, nip_parts, normalize_nip, parse_nip
from recommender.data.parsing import Parsed, is_missing

__all__ = [
    "EDUCATION_LEVELS",
    "GRADES",
    "MODALITIES",
    "RANK_TITLES",
    "RATINGS",
    "Modality",
    "NipParts",
    "Parsed",
    "grade_rank",
    "is_missing",
    "nip_parts",
    "normalize_bool",
    "normalize_date",
    "normalize_education",
    "normalize_grade",
    "normalize_modality",
    "normalize_nip",
    "normalize_rating",
    "normalize_sex",
    "parse_nip",
]
