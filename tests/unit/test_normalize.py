"""Tests for recommender.data.normalize: real spellings, error messages, vectorised behaviour."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from recommender.data import grades
from recommender.data import normalize as nz

Normalizer = Callable[["pd.Series[Any]"], nz.Parsed]


def _one(func: Normalizer, value: Any) -> tuple[Any, Any]:
    """Normalise a single value; return (value, error)."""
    parsed = func(pd.Series([value], dtype=object))
    return parsed.values.iloc[0], parsed.errors.iloc[0]


def _digit_windows(text: str, width: int = 6) -> set[str]:
    digits = re.sub(r"\D", "", text)
    return {digits[i : i + width] for i in range(len(digits) - width + 1)}


def _assert_no_nip_in(message: str, raw: str) -> None:
    assert not re.search(r"\d{6,}", message), message
    assert not any(w in message for w in _digit_windows(raw)), message


# --------------------------------------------------------------------------------------------
# is_missing
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["a", "", "  ", "\t\n", None, np.nan, pd.NA, "0"], [0, 1, 1, 1, 1, 1, 1, 0]),
        ([1.0, np.nan, 0.0], [0, 1, 0]),
        ([pd.Timestamp("2024-01-01"), pd.NaT], [0, 1]),
        ([True, False], [0, 0]),
    ],
)
def test_is_missing(values: list[Any], expected: list[int]) -> None:
    s = pd.Series(values, index=[f"r{i}" for i in range(len(values))])
    out = nz.is_missing(s)
    assert out.dtype == bool
    assert out.tolist() == [bool(x) for x in expected]
    assert out.index.equals(s.index)


def test_is_missing_categorical_and_string_dtype() -> None:
    assert nz.is_missing(pd.Series(["a", None, " "], dtype="category")).tolist() == [0, 1, 1]
    assert nz.is_missing(pd.Series(["a", None, ""], dtype="string")).tolist() == [0, 1, 1]


# --------------------------------------------------------------------------------------------
# NIP
# --------------------------------------------------------------------------------------------

NIP = "197407072002121008"


@pytest.mark.parametrize(
    "raw",
    [
        "197407072002121008",
        "19740707 200212 1 008",
        " 19740707 200212 1 008 ",
        "19740707.200212.1.008",
        "19740707-200212-1-008",
        "'197407072002121008",
        197407072002121008,
        np.int64(197407072002121008),
    ],
)
def test_nip_valid_spellings(raw: Any) -> None:
    assert _one(nz.normalize_nip, raw) == (NIP, None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("19740707200212100", "NIP must have 18 digits, found 17"),
        ("1974070720021210081", "NIP must have 18 digits, found 19"),
        ("19740707 200212 1 00X", "NIP must contain only digits"),
        ("197402302002121008", "NIP birth date is not a valid date"),
        ("197413012002121008", "NIP birth date is not a valid date"),
        ("199203552015032001", "NIP birth date is not a valid date"),  # no NIK-style day + 40
        ("193912312002121008", "NIP birth date is not between 1940 and today"),
        ("209001012100011001", "NIP birth date is not between 1940 and today"),
        ("197407072002131008", "NIP appointment month is not valid"),
        ("197407072002001008", "NIP appointment month is not valid"),
        ("197407071990121008", "NIP appointment is less than 18 years after birth"),
        ("197407072099011008", "NIP appointment month is in the future"),
        ("197407072002123008", "NIP sex digit must be 1 or 2"),
        ("197407072002120008", "NIP sex digit must be 1 or 2"),
        (1.9740707200212102e17, "not a float"),
        (True, "not a boolean"),
    ],
)
def test_nip_errors_are_informative_and_never_quote_the_nip(raw: Any, message: str) -> None:
    value, error = _one(nz.normalize_nip, raw)
    assert value is None
    assert isinstance(error, str)
    assert message in error
    _assert_no_nip_in(error, str(raw))


def test_nip_int_column_from_parquet() -> None:
    s = pd.Series([197407072002121008, 198501012010011001], index=[10, 20], dtype="int64")
    parsed = nz.normalize_nip(s)
    assert parsed.values.tolist() == [NIP, "198501012010011001"]
    assert parsed.errors.isna().all()
    assert parsed.values.index.tolist() == [10, 20]


def test_nip_nullable_int_column() -> None:
    s = pd.Series([197407072002121008, None], dtype="Int64")
    parsed = nz.normalize_nip(s)
    assert parsed.values.tolist() == [NIP, None]
    assert parsed.errors.tolist() == [None, None]


def test_nip_parts_male() -> None:
    parts = nz.nip_parts("19850101 201001 1 001")
    assert parts == nz.NipParts(dt.date(1985, 1, 1), dt.date(2010, 1, 1), "L", 1)


def test_nip_parts_female() -> None:
    parts = nz.nip_parts("199203152015032017")
    assert parts.birth_date == dt.date(1992, 3, 15)
    assert parts.appointed == dt.date(2015, 3, 1)
    assert parts.sex == "P"
    assert parts.sequence == 17


@pytest.mark.parametrize(
    "raw", ["1985010120100110", "198501012010013001", "198502302010011001", "x"]
)
def test_nip_parts_raises_without_the_nip(raw: str) -> None:
    with pytest.raises(ValueError, match="NIP") as info:
        nz.nip_parts(raw)
    _assert_no_nip_in(str(info.value), raw)


# --------------------------------------------------------------------------------------------
# Grade
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("III/d", "III/d"),
        ("III-d", "III/d"),
        ("III d", "III/d"),
        ("IIId", "III/d"),
        ("iii/d", "III/d"),
        ("3d", "III/d"),
        ("3/d", "III/d"),
        ("3-d", "III/d"),
        ("3D", "III/d"),
        ("III/D", "III/d"),
        (" III / d ", "III/d"),
        ("Penata Tk. I / III-d", "III/d"),
        ("Penata Tingkat I (III/d)", "III/d"),
        ("Penata Tk.I, III/d", "III/d"),
        ("Penata Tk. I", "III/d"),
        ("PENATA TK I", "III/d"),
        ("Pembina Utama Muda", "IV/c"),
        ("Pembina Utama Madya", "IV/d"),
        ("Pembina Utama", "IV/e"),
        ("Pembina", "IV/a"),
        ("Pembina Tk. I", "IV/b"),
        ("Penata Muda", "III/a"),
        ("Penata Muda Tk. I", "III/b"),
        ("Penata", "III/c"),
        ("Pengatur Muda", "II/a"),
        ("Pengatur Tingkat I", "II/d"),
        ("Juru Muda", "I/a"),
        ("Juru Tk. I", "I/d"),
        ("Penata (III/c)", "III/c"),
        ("IV/c Pembina Utama Muda", "IV/c"),
        ("Gol. II/a", "II/a"),
        ("I/a", "I/a"),
        ("IVa", "IV/a"),
        ("4e", "IV/e"),
        ("2/b", "II/b"),
    ],
)
def test_grade_spellings(raw: str, expected: str) -> None:
    assert _one(nz.normalize_grade, raw) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("I/e", "unknown grade 'I/e'"),
        ("V/a", "unknown grade 'V/a'"),
        ("III/f", "unknown grade 'III/f'"),
        ("5a", "unknown grade '5a'"),
        ("Penata Tk. X", "unknown grade 'Penata Tk. X'"),
        ("golongan tiga", "unknown grade 'golongan tiga'"),
        ("Penata Tk. I / III-c", "rank title and grade disagree in 'Penata Tk. I / III-c'"),
        ("Pembina (III/d)", "rank title and grade disagree in 'Pembina (III/d)'"),
    ],
)
def test_grade_errors(raw: str, message: str) -> None:
    assert _one(nz.normalize_grade, raw) == (None, message)


def test_grade_tables() -> None:
    assert len(nz.GRADES) == 17
    assert nz.GRADES[:5] == ("I/a", "I/b", "I/c", "I/d", "II/a")
    assert nz.GRADES[-1] == "IV/e"
    assert tuple(nz.RANK_TITLES) == nz.GRADES
    assert nz.RANK_TITLES["III/d"] == "Penata Tingkat I"
    assert nz.RANK_TITLES["IV/c"] == "Pembina Utama Muda"


@pytest.mark.parametrize("grade", ["I/a", "II/d", "III/d", "IV/e"])
def test_grade_rank_and_titles_round_trip(grade: str) -> None:
    assert nz.GRADES[nz.grade_rank(grade)] == grade
    assert _one(nz.normalize_grade, nz.RANK_TITLES[grade]) == (grade, None)


def test_grade_rank_order() -> None:
    assert nz.grade_rank("I/a") == 0
    assert nz.grade_rank("III/d") == 11
    assert nz.grade_rank("IV/e") == 16


@pytest.mark.parametrize("bad", ["I/e", "iii/d", "", "V/a"])
def test_grade_rank_unknown(bad: str) -> None:
    with pytest.raises(ValueError, match="unknown grade"):
        nz.grade_rank(bad)


# --------------------------------------------------------------------------------------------
# Rating
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Sangat Baik", "Sangat Baik"),
        ("Baik", "Baik"),
        ("Butuh Perbaikan", "Butuh Perbaikan"),
        ("Kurang", "Kurang"),
        ("Sangat Kurang", "Sangat Kurang"),
        ("BUTUH PERBAIKAN", "Butuh Perbaikan"),
        ("butuh  perbaikan", "Butuh Perbaikan"),
        (" Baik ", "Baik"),
        ("sangat baik", "Sangat Baik"),
        ("Kurang/Misconduct", "Kurang"),
        ("Kurang / misconduct", "Kurang"),
        ("Misconduct", "Kurang"),
        ("Amat Baik", "Sangat Baik"),
        ("Cukup", "Butuh Perbaikan"),
        ("Buruk", "Sangat Kurang"),
        (100, "Sangat Baik"),
        (91, "Sangat Baik"),
        (90.99, "Baik"),
        ("90,99", "Baik"),
        (76, "Baik"),
        ("75.99", "Butuh Perbaikan"),
        (61.0, "Butuh Perbaikan"),
        ("60,99", "Kurang"),
        ("51", "Kurang"),
        (50.99, "Sangat Kurang"),
        (0, "Sangat Kurang"),
        (np.float64(85.5), "Baik"),
    ],
)
def test_rating_spellings(raw: Any, expected: str) -> None:
    assert _one(nz.normalize_rating, raw) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (101, "rating score '101' is outside 0-100"),
        ("100,5", "rating score '100,5' is outside 0-100"),
        (-1, "rating score '-1' is outside 0-100"),
        ("Bagus", "unknown rating 'Bagus'"),
        ("Sangat", "unknown rating 'Sangat'"),
        (True, "unknown rating 'True'"),
    ],
)
def test_rating_errors(raw: Any, message: str) -> None:
    assert _one(nz.normalize_rating, raw) == (None, message)


def test_rating_numeric_column() -> None:
    s = pd.Series([95.0, np.nan, 40.0, 120.0], index=list("wxyz"))
    parsed = nz.normalize_rating(s)
    assert parsed.values.tolist() == ["Sangat Baik", None, "Sangat Kurang", None]
    assert parsed.errors.notna().tolist() == [False, False, False, True]


def test_ratings_constant() -> None:
    assert nz.RATINGS == ("Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang", "Sangat Kurang")


# --------------------------------------------------------------------------------------------
# Date
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2023-05-17", "2023-05-17"),
        ("2023-05-17T08:00:00", "2023-05-17"),
        ("2023-05-17 08:00", "2023-05-17"),
        ("2023-05-17T23:30:00+07:00", "2023-05-17"),
        ("17-05-2023", "2023-05-17"),
        ("17/05/2023", "2023-05-17"),
        ("17.05.2023", "2023-05-17"),
        ("05/06/2023", "2023-06-05"),
        ("5/6/2023", "2023-06-05"),
        ("15 Ags 2026", "2026-08-15"),
        ("15 Agustus 2026", "2026-08-15"),
        ("15-Ags-2026", "2026-08-15"),
        ("15 agt 2026", "2026-08-15"),
        ("15 Agu 2026", "2026-08-15"),
        ("1 Mei 2024", "2024-05-01"),
        ("1 MEI 2024", "2024-05-01"),
        ("3 Januari 2020", "2020-01-03"),
        ("3 Peb 2020", "2020-02-03"),
        ("3 Februari 2020", "2020-02-03"),
        ("31 Maret 2020", "2020-03-31"),
        ("9 Juni 2020", "2020-06-09"),
        ("9 Juli 2020", "2020-07-09"),
        ("9 Sept 2020", "2020-09-09"),
        ("9 Okt 2020", "2020-10-09"),
        ("9 Nop 2020", "2020-11-09"),
        ("25 Des 2020", "2020-12-25"),
        ("15 Aug 2026", "2026-08-15"),
        ("August 15, 2026", "2026-08-15"),
        ("Dec 1, 1999", "1999-12-01"),
        ("1900-01-01", "1900-01-01"),
        ("2100-12-31", "2100-12-31"),
    ],
)
def test_date_spellings(raw: str, expected: str) -> None:
    assert _one(nz.normalize_date, raw) == (pd.Timestamp(expected), None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("31-02-2023", "cannot parse date '31-02-2023'"),
        ("2023-13-01", "cannot parse date '2023-13-01'"),
        ("2023-02-29", "cannot parse date '2023-02-29'"),
        ("32 Mei 2024", "cannot parse date '32 Mei 2024'"),
        ("15 Foo 2026", "cannot parse date '15 Foo 2026'"),
        ("garbage", "cannot parse date 'garbage'"),
        ("2023", "cannot parse date '2023'"),
        ("17-05-23", "cannot parse date '17-05-23'"),
        (45000, "cannot parse date '45000'"),
        ("1899-12-31", "date '1899-12-31' is outside 1900-2100"),
        ("01-01-2101", "date '01-01-2101' is outside 1900-2100"),
        ("3000-01-01", "date '3000-01-01' is outside 1900-2100"),
    ],
)
def test_date_errors(raw: Any, message: str) -> None:
    value, error = _one(nz.normalize_date, raw)
    assert value is pd.NaT
    assert error == message


def test_date_values_are_datetime64_ns_at_midnight() -> None:
    parsed = nz.normalize_date(pd.Series(["2023-05-17 08:00", "17/05/2023", None]))
    assert parsed.values.dtype == "datetime64[ns]"
    assert parsed.values.iloc[0] == parsed.values.iloc[1] == pd.Timestamp("2023-05-17")
    assert parsed.values.isna().tolist() == [False, False, True]


def test_date_typed_datetime_column() -> None:
    stamps = [pd.Timestamp("2023-05-17 10:30"), pd.NaT, pd.Timestamp("1850-01-01")]
    s = pd.Series(stamps, index=[7, 8, 9]).astype("datetime64[s]")
    parsed = nz.normalize_date(s)
    assert parsed.values.dtype == "datetime64[ns]"
    assert parsed.values.index.tolist() == [7, 8, 9]
    assert parsed.values.iloc[0] == pd.Timestamp("2023-05-17")
    assert parsed.values.iloc[1:].isna().all()
    assert parsed.errors.tolist() == [None, None, "date '1850-01-01' is outside 1900-2100"]


def test_date_tz_aware_column_keeps_local_date() -> None:
    s = pd.Series(pd.to_datetime(["2023-05-17 23:30"]).tz_localize("Asia/Jakarta"))
    parsed = nz.normalize_date(s)
    assert parsed.values.dtype == "datetime64[ns]"
    assert parsed.values.iloc[0] == pd.Timestamp("2023-05-17")


def test_date_python_objects() -> None:
    s = pd.Series(
        [dt.date(2020, 1, 2), dt.datetime(2021, 3, 4, 5, 6), np.datetime64("2022-01-01")],
        dtype=object,
    )
    parsed = nz.normalize_date(s)
    expected = ["2020-01-02", "2021-03-04", "2022-01-01"]
    assert parsed.values.tolist() == [pd.Timestamp(x) for x in expected]
    assert parsed.errors.isna().all()


def test_date_mixed_utc_offsets_fall_back() -> None:
    parsed = nz.normalize_date(pd.Series(["2023-05-17T08:00:00+07:00", "2023-05-18T08:00:00Z"]))
    assert parsed.values.tolist() == [pd.Timestamp("2023-05-17"), pd.Timestamp("2023-05-18")]
    assert parsed.errors.isna().all()


# --------------------------------------------------------------------------------------------
# Modality
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[(code, code) for code in nz.MODALITIES],
        *[(m.label_id, code) for code, m in nz.MODALITIES.items()],
        *[(m.label_en, code) for code, m in nz.MODALITIES.items()],
        ("Diklat PIM IV", "pkp"),
        ("Diklatpim IV", "pkp"),
        ("PIM 4", "pkp"),
        ("Diklat PIM Tk. IV", "pkp"),
        ("Diklat PIM III", "pka"),
        ("Diklatpim III", "pka"),
        ("PIM III", "pka"),
        ("Diklat PIM II", "pkn_ii"),
        ("PKN II", "pkn_ii"),
        ("PKN Tk. II", "pkn_ii"),
        ("PKN Tingkat II", "pkn_ii"),
        ("Diklat PIM I", "pkn_i"),
        ("PKN I", "pkn_i"),
        ("PKN Tk.I", "pkn_i"),
        ("Latsar", "latsar"),
        ("Latsar CPNS", "latsar"),
        ("LATSAR CPNS", "latsar"),
        ("Diklat Prajabatan", "latsar"),
        ("Prajab", "latsar"),
        ("Datasering", "detasering"),
        ("Detasering", "detasering"),
        ("secondment", "detasering"),
        ("E-learning", "e_learning"),
        ("elearning", "e_learning"),
        ("E-Learing", "e_learning"),
        ("E Learning", "e_learning"),
        ("online course", "e_learning"),
        ("MOOC", "e_learning"),
        ("Bimtek", "bimtek"),
        ("Bimbingan Teknis", "bimtek"),
        ("Webinar", "seminar"),
        ("Seminar", "seminar"),
        ("Konferensi", "seminar"),
        ("Lokakarya", "workshop"),
        ("Workshop", "workshop"),
        ("Benchmarking", "patok_banding"),
        ("Studi Banding", "patok_banding"),
        ("Patok Banding", "patok_banding"),
        ("Magang", "magang"),
        ("Internship", "magang"),
        ("Praktik Kerja", "magang"),
        ("OJT", "bimbingan_kerja"),
        ("On the job training", "bimbingan_kerja"),
        ("On-the-Job Training", "bimbingan_kerja"),
        ("CoP", "komunitas_belajar"),
        ("Community of Practice", "komunitas_belajar"),
        ("Self-study", "belajar_mandiri"),
        ("Belajar Mandiri", "belajar_mandiri"),
        ("Diklat Teknis", "teknis"),
        ("Pelatihan Teknis", "teknis"),
        ("Diklat Fungsional", "fungsional_dasar"),
        ("Pelatihan Dasar Fungsional", "fungsional_dasar"),
        ("Penjenjangan", "fungsional_penjenjangan"),
        ("Kursus", "kursus"),
        ("Penataran", "kursus"),
        ("Outbound", "outbound"),
        ("PJJ", "pjj"),
        ("Pelatihan Jarak Jauh", "pjj"),
        ("distance learning", "pjj"),
        ("  pelatihan   TEKNIS. ", "teknis"),
        ("Bimbingan Tekniss", "bimtek"),  # fuzzy
        ("Mentorring", "mentoring"),  # fuzzy
        ("Outbond", "outbound"),  # fuzzy
    ],
)
def test_modality_spellings(raw: str, expected: str) -> None:
    assert _one(nz.normalize_modality, raw) == (expected, None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("xyz", "unknown training type 'xyz'"),
        ("PKN III", "unknown training type 'PKN III'"),
        ("Diklat PIM V", "unknown training type 'Diklat PIM V'"),
        ("Rapat", "unknown training type 'Rapat'"),
        ("---", "unknown training type '---'"),
    ],
)
def test_modality_errors(raw: str, message: str) -> None:
    assert _one(nz.normalize_modality, raw) == (None, message)


def test_modalities_table() -> None:
    classical = {c for c, m in nz.MODALITIES.items() if m.classical}
    assert len(nz.MODALITIES) == 27
    assert len(classical) == 15
    assert {"latsar", "pkp", "pka", "pkn_ii", "pkn_i", "bimtek", "sosialisasi"} <= classical
    assert not nz.MODALITIES["e_learning"].classical
    assert nz.MODALITIES["pjj"].label_id == "Pelatihan Jarak Jauh"


# --------------------------------------------------------------------------------------------
# Sex, education, booleans
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[(v, "L") for v in ["L", "l", "Laki-laki", "LAKI-LAKI", "Laki laki", "Pria", "M"]],
        *[(v, "L") for v in ["Male", "1", 1, 1.0, np.int64(1)]],
        *[(v, "P") for v in ["P", "p", "Perempuan", "Wanita", "F", "Female", "2", 2]],
    ],
)
def test_sex_spellings(raw: Any, expected: str) -> None:
    assert _one(nz.normalize_sex, raw) == (expected, None)


@pytest.mark.parametrize(("raw", "quoted"), [("X", "'X'"), (3, "'3'"), ("Lainnya", "'Lainnya'")])
def test_sex_errors(raw: Any, quoted: str) -> None:
    assert _one(nz.normalize_sex, raw) == (None, f"unknown sex {quoted}")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[(level, level) for level in nz.EDUCATION_LEVELS],
        *[(level.lower(), level) for level in nz.EDUCATION_LEVELS],
        *[(v, "SMA") for v in ["SMK", "SMU", "SLTA", "MA", "smk"]],
        *[(v, "SMP") for v in ["SLTP", "MTs", "MTS"]],
        *[(v, "D3") for v in ["D-III", "DIII", "D 3", "Diploma III", "d-iii"]],
        *[(v, "D4") for v in ["D-IV", "DIV", "Diploma IV"]],
        *[(v, "S1") for v in ["Sarjana", "Strata 1", "S-1", "SARJANA"]],
        *[(v, "S2") for v in ["Magister", "Strata 2", "S-2"]],
        *[(v, "S3") for v in ["Doktor", "Strata 3", "S-3"]],
    ],
)
def test_education_spellings(raw: str, expected: str) -> None:
    assert _one(nz.normalize_education, raw) == (expected, None)


@pytest.mark.parametrize("raw", ["TK", "Diploma V", "S4", "Profesor"])
def test_education_errors(raw: str) -> None:
    assert _one(nz.normalize_education, raw) == (None, f"unknown education level '{raw}'")


def test_education_levels_order() -> None:
    assert nz.EDUCATION_LEVELS == ("SD", "SMP", "SMA", "D1", "D2", "D3", "D4", "S1", "S2", "S3")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[(v, True) for v in ["ya", "Ya", "YA", "y", "Y", "yes", "Yes", "true", "TRUE", "t"]],
        *[(v, True) for v in ["T", "1", "benar", "Benar", 1, 1.0, True, np.bool_(True)]],
        *[(v, False) for v in ["tidak", "Tidak", "n", "N", "no", "NO", "false", "False", "f"]],
        *[(v, False) for v in ["F", "0", "salah", "SALAH", 0, 0.0, False, np.bool_(False)]],
    ],
)
def test_bool_spellings(raw: Any, expected: bool) -> None:
    value, error = _one(nz.normalize_bool, raw)
    assert value is expected
    assert error is None


@pytest.mark.parametrize(("raw", "quoted"), [("mungkin", "'mungkin'"), (2, "'2'"), ("yy", "'yy'")])
def test_bool_errors(raw: Any, quoted: str) -> None:
    assert _one(nz.normalize_bool, raw) == (None, f"cannot parse boolean {quoted}")


def test_bool_typed_columns() -> None:
    plain = nz.normalize_bool(pd.Series([True, False, True], index=[5, 6, 7]))
    assert plain.values.tolist() == [True, False, True]
    assert plain.values.dtype == object
    assert plain.values.index.tolist() == [5, 6, 7]
    nullable = nz.normalize_bool(pd.Series([True, None, False], dtype="boolean"))
    assert nullable.values.tolist() == [True, None, False]
    assert nullable.errors.tolist() == [None, None, None]


# --------------------------------------------------------------------------------------------
# Vectorised behaviour, shared by every normaliser
# --------------------------------------------------------------------------------------------

MIXED_CASES: list[tuple[Normalizer, list[Any], list[Any]]] = [
    # (function, [good, bad, missing, good, bad, missing, good], expected values)
    (
        nz.normalize_nip,
        [NIP, "123", None, "19740707 200212 1 008", "197407072002123008", "  ", NIP],
        [NIP, None, None, NIP, None, None, NIP],
    ),
    (
        nz.normalize_grade,
        ["III/d", "I/e", None, "3d", "V/a", "", "Penata"],
        ["III/d", None, None, "III/d", None, None, "III/c"],
    ),
    (
        nz.normalize_rating,
        ["Baik", "Bagus", np.nan, "Amat Baik", "120", " ", 80],
        ["Baik", None, None, "Sangat Baik", None, None, "Baik"],
    ),
    (
        nz.normalize_modality,
        ["Bimtek", "xyz", None, "Diklat PIM IV", "PKN III", "", "E-Learing"],
        ["bimtek", None, None, "pkp", None, None, "e_learning"],
    ),
    (
        nz.normalize_sex,
        ["L", "X", None, "Wanita", "3", "", "Pria"],
        ["L", None, None, "P", None, None, "L"],
    ),
    (
        nz.normalize_education,
        ["S1", "S4", None, "D-III", "TK", " ", "SLTA"],
        ["S1", None, None, "D3", None, None, "SMA"],
    ),
    (
        nz.normalize_bool,
        ["ya", "mungkin", None, "Tidak", "2", "", "1"],
        [True, None, None, False, None, None, True],
    ),
]
BAD_ROWS = [False, True, False, False, True, False, False]
INDEX = ["a", "b", "c", "d", "e", "f", "g"]


@pytest.mark.parametrize(
    ("func", "raw", "expected"), MIXED_CASES, ids=[c[0].__name__ for c in MIXED_CASES]
)
def test_vectorised_errors_exactly_at_bad_rows(
    func: Normalizer, raw: list[Any], expected: list[Any]
) -> None:
    s = pd.Series(raw, index=INDEX, dtype=object, name="col")
    parsed = func(s)
    assert parsed.values.index.equals(s.index)
    assert parsed.errors.index.equals(s.index)
    assert parsed.errors.dtype == object
    assert parsed.errors.notna().tolist() == BAD_ROWS
    assert all(isinstance(e, str) and e for e in parsed.errors[BAD_ROWS])
    assert parsed.values.tolist() == expected


def test_vectorised_dates_errors_exactly_at_bad_rows() -> None:
    raw = ["2023-05-17", "31-02-2023", None, "15 Ags 2026", "garbage", "  ", "17/05/2023"]
    s = pd.Series(raw, index=INDEX)
    parsed = nz.normalize_date(s)
    assert parsed.values.index.equals(s.index)
    assert parsed.errors.notna().tolist() == BAD_ROWS
    expected = ["2023-05-17", None, None, "2026-08-15", None, None, "2023-05-17"]
    assert parsed.values.tolist() == [pd.Timestamp(x) if x else pd.NaT for x in expected]


@pytest.mark.parametrize("dtype", [object, "str", "category"])
def test_input_dtypes_for_text(dtype: Any) -> None:
    s = pd.Series(["III-d", None, "3d", "IV/f"] * 3, index=range(100, 112), dtype=dtype)
    parsed = nz.normalize_grade(s)
    assert parsed.values.tolist() == ["III/d", None, "III/d", None] * 3
    assert parsed.errors.notna().tolist() == [False, False, False, True] * 3


def test_each_distinct_value_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    original = grades._parse_grade

    def counting(raw: Any) -> str:
        calls.append(raw)
        return original(raw)

    monkeypatch.setattr(grades, "_parse_grade", counting)
    s = pd.Series(["III/d", "3d", None, "I/e"] * 25_000)
    parsed = nz.normalize_grade(s)
    assert sorted(calls) == ["3d", "I/e", "III/d"]
    assert parsed.errors.notna().sum() == 25_000


def test_empty_series() -> None:
    empty = pd.Series([], dtype=object)
    for func in (nz.normalize_nip, nz.normalize_grade, nz.normalize_bool, nz.normalize_date):
        parsed = func(empty)
        assert len(parsed.values) == len(parsed.errors) == 0


def test_parsed_is_frozen() -> None:
    parsed = nz.normalize_sex(pd.Series(["L"]))
    with pytest.raises(AttributeError):
        parsed.values = pd.Series(["P"])  # type: ignore[misc]
