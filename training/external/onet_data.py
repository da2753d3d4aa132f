"""Reading O*NET occupation standards and related-occupation truth files for the
standards-only evaluation (:mod:`training.external.onet`).

O*NET (29.3; CC BY 4.0, O*NET by the U.S. Department of Labor, Employment and Training
Administration) describes each occupation by the importance and level of 35 skills and 33
knowledge areas and by a job zone. That is the standards-only case of Jenjang: positions and
competency requirements, no move history. The mapping:

- occupation -> position; only occupations with skill or knowledge ratings are positions;
- skill / knowledge element -> competency, in two competency groups (skills, knowledge);
- an element is a requirement of the occupation when its importance (``IM``, 1-5) is above
  :data:`MIN_IMPORTANCE` (1 = "not important") and its level is not marked ``Not Relevant = Y``;
  values marked ``Recommend Suppress = Y`` (low precision) are kept;
- required level: the level (``LV``, 0-7) cut into five equal bands, ``1 + floor(LV x 5 / 7)``
  capped at 5 (0-1.39 -> 1, 1.4-2.79 -> 2, 2.8-4.19 -> 3, 4.2-5.59 -> 4, 5.6-7 -> 5);
- weight: importance minus 1 (0 = "not important", 4 = "extremely important");
- job zone 1-5 -> tier level 1-5 (the same ladder as ``domain.TIER_LEVEL``); none -> unknown.

The baseline ``cosine`` gets the raw importance of every element (nothing dropped).

The tune / held-out halves: ``crc32(code) % 2`` (:func:`split_half`).
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

CODE, RELATED, INDEX, TIER = (
    "O*NET-SOC Code",
    "Related O*NET-SOC Code",
    "Index",
    "Relatedness Tier",
)
TRUTH_REQUIRED = (CODE, RELATED, INDEX)
ELEMENT_COLUMNS = (CODE, "Element ID", "Scale ID", "Data Value", "Not Relevant")
GROUPS = ("skills", "knowledge")
MIN_IMPORTANCE = 1.0
LV_MAX = 7.0
MAX_LEVEL = 5
JOB_ZONES = (1, 2, 3, 4, 5)
TUNE, HELD_OUT = "tune", "held_out"
SPLIT_RULE = "crc32(O*NET-SOC Code) % 2: even -> tune, odd -> held_out"


class ExternalDataError(ValueError):
    """A file cannot be read or lacks required columns (the message names the file)."""


def default_onet_dir() -> Path:
    """``shared/data/external/onet`` beside the repository (or, for an installed copy, beside
    the working directory); the first of the two that exists, else the first."""
    tail = Path("shared") / "data" / "external" / "onet"
    candidates = [Path(__file__).resolve().parents[3] / tail, Path.cwd().resolve().parent / tail]
    return next((c for c in candidates if c.is_dir()), candidates[0])


# --------------------------------------------------------------------------------------------
# Mapping
# --------------------------------------------------------------------------------------------


def level_from_lv(lv: np.ndarray) -> np.ndarray:
    """Required level 1-5 from O*NET level 0-7: ``1 + floor(LV x 5 / 7)``, capped at 5; NaN
    stays NaN. Raises ValueError for a value outside 0-7."""
    lv = np.asarray(lv, dtype=float)
    known = lv[~np.isnan(lv)]
    if known.size and (known.min() < 0 or known.max() > LV_MAX):
        raise ValueError(f"O*NET levels must be between 0 and {LV_MAX:g}")
    out: np.ndarray = np.minimum(1 + np.floor(lv * MAX_LEVEL / LV_MAX), MAX_LEVEL)
    return out


def weight_from_importance(im: np.ndarray) -> np.ndarray:
    """Weight 0-4 from O*NET importance 1-5 (``IM - 1``); NaN stays NaN. Raises ValueError for
    a value outside 1-5."""
    im = np.asarray(im, dtype=float)
    known = im[~np.isnan(im)]
    if known.size and (known.min() < 1 or known.max() > MAX_LEVEL):
        raise ValueError("O*NET importance must be between 1 and 5")
    out: np.ndarray = im - 1.0
    return out


def tier_from_job_zone(zone: np.ndarray) -> np.ndarray:
    """Tier level 1-5 from job zone 1-5 (the same number); NaN (no job zone) stays NaN.
    Raises ValueError for anything else."""
    zone = np.asarray(zone, dtype=float)
    known = zone[~np.isnan(zone)]
    if not np.isin(known, JOB_ZONES).all():
        raise ValueError("job zones must be whole numbers 1-5")
    return zone


def split_half(code: str) -> str:
    """``"tune"`` or ``"held_out"``: a fixed half of the occupations, by a hash of the code."""
    return TUNE if zlib.crc32(code.encode("utf-8")) % 2 == 0 else HELD_OUT


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def read_csv(
    path: str | Path, required: Sequence[str], optional: Sequence[str] = ()
) -> pd.DataFrame:
    """The ``required`` and present ``optional`` columns of a CSV (optionally gzipped), as text;
    raises ExternalDataError naming the file when it is missing, unreadable or lacks a required
    column (every missing one is named)."""
    path = Path(path)
    if not path.is_file():
        raise ExternalDataError(f"{path}: file not found")
    errors = (OSError, EOFError, UnicodeDecodeError, zlib.error, gzip.BadGzipFile)
    parse = (pd.errors.ParserError, pd.errors.EmptyDataError)
    try:
        header = [str(c).strip() for c in pd.read_csv(path, nrows=0, compression="infer").columns]
        missing = [c for c in required if c not in header]
        if missing:
            raise ExternalDataError(
                f"{path}: missing required column(s): {', '.join(missing)} "
                f"(needs {', '.join(required)})"
            )
        wanted = {*required, *optional}
        raw = pd.read_csv(
            path, dtype=str, compression="infer", usecols=lambda c: str(c).strip() in wanted
        )
    except (*errors, *parse) as exc:
        raise ExternalDataError(f"{path}: cannot be read as CSV: {exc}") from exc
    raw.columns = [str(c).strip() for c in raw.columns]
    return raw


def _numbers(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """``column`` as floats; raises ExternalDataError naming the file, column and first bad row."""
    text = frame[column].str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & text.notna() & (text != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2  # 1-based, after the header line
        raise ExternalDataError(f"{path}: column {column}: not a number on line {row}")
    return values.astype(float)


@dataclass(frozen=True)
class Standards:
    """Occupations as positions. ``codes`` (P,) sorted; ``competencies`` (C,) element ids;
    ``groups`` (C,) 0 = skill, 1 = knowledge; ``importance`` (P, C) raw importance (0 where
    missing; the baseline's input); ``required`` (P, C) levels 0-5 (0 = not required);
    ``weight`` (P, C) 0-4; ``tier`` (P,) 1-5 or NaN; ``facts``: counts for the report."""

    codes: tuple[str, ...]
    competencies: tuple[str, ...]
    groups: np.ndarray
    importance: np.ndarray
    required: np.ndarray
    weight: np.ndarray
    tier: np.ndarray
    facts: dict[str, int]


def _elements(path: Path, group: int) -> pd.DataFrame:
    """One skills / knowledge file as (code, element, IM, LV, not_relevant, group) rows."""
    raw = read_csv(path, ELEMENT_COLUMNS)
    raw = raw.assign(value=_numbers(raw, "Data Value", path))
    for column in (CODE, "Element ID", "Scale ID"):
        raw[column] = raw[column].str.strip()
    raw = raw.dropna(subset=[CODE, "Element ID"])
    raw = raw[raw["Scale ID"].isin(["IM", "LV"])].drop_duplicates([CODE, "Element ID", "Scale ID"])
    wide = raw.pivot(index=[CODE, "Element ID"], columns="Scale ID", values="value")
    wide = wide.reindex(columns=["IM", "LV"])
    flags = raw[raw["Scale ID"] == "LV"].set_index([CODE, "Element ID"])["Not Relevant"]
    wide["not_relevant"] = flags.reindex(wide.index).fillna("").str.strip().str.upper() == "Y"
    wide["group"] = group
    try:
        weight_from_importance(wide["IM"].to_numpy(float))
        level_from_lv(wide["LV"].to_numpy(float))
    except ValueError as exc:
        raise ExternalDataError(f"{path}: {exc}") from exc
    return wide.reset_index()


def _matrix(rows: pd.DataFrame, column: str, shape: tuple[int, int]) -> np.ndarray:
    out = np.full(shape, np.nan)
    out[rows["p"].to_numpy(), rows["c"].to_numpy()] = rows[column].to_numpy(float)
    return out


def load_standards(folder: str | Path) -> Standards:
    """Read ``skills``, ``knowledge``, ``job_zones`` and ``occupations`` (``.csv.gz``) from
    ``folder`` and map them onto positions, requirements and tiers (module docstring). Raises
    ExternalDataError for a missing or malformed file or one with values off O*NET's scales."""
    folder = Path(folder)
    occupations = read_csv(folder / "occupations.csv.gz", (CODE,))
    parts = [_elements(folder / f"{name}.csv.gz", g) for g, name in enumerate(GROUPS)]
    rows = pd.concat(parts, ignore_index=True)
    codes = pd.Index(sorted(rows[CODE].unique()))
    elements = rows.drop_duplicates("Element ID").sort_values(["group", "Element ID"])
    competencies = pd.Index(elements["Element ID"])
    rows = rows.assign(
        p=codes.get_indexer(rows[CODE]), c=competencies.get_indexer(rows["Element ID"])
    )
    shape = (len(codes), len(competencies))
    im, lv = _matrix(rows, "IM", shape), _matrix(rows, "LV", shape)
    not_relevant = np.zeros(shape, dtype=bool)
    not_relevant[rows["p"], rows["c"]] = rows["not_relevant"].to_numpy(bool)
    weight, level = weight_from_importance(im), level_from_lv(lv)  # checked per file
    keep = (im > MIN_IMPORTANCE) & ~not_relevant & ~np.isnan(lv)
    zones_path = folder / "job_zones.csv.gz"
    zones = read_csv(zones_path, (CODE, "Job Zone"))
    zone = _numbers(zones, "Job Zone", zones_path).groupby(zones[CODE].str.strip()).first()
    try:
        tier = tier_from_job_zone(zone.reindex(codes).to_numpy(float))
    except ValueError as exc:
        raise ExternalDataError(f"{zones_path}: {exc}") from exc
    listed = set(occupations[CODE].str.strip())
    facts = {
        "occupations": len(listed | set(codes)),
        "positions": len(codes),
        "occupations_without_standard": len(listed - set(codes)),
        "competencies": len(competencies),
        "requirements": int(keep.sum()),
        "dropped_not_relevant": int((~np.isnan(im) & not_relevant).sum()),
        "dropped_not_important": int(
            (~np.isnan(im) & ~not_relevant & (im <= MIN_IMPORTANCE)).sum()
        ),
        "positions_without_tier": int(np.isnan(tier).sum()),
    }
    return Standards(
        codes=tuple(codes),
        competencies=tuple(competencies),
        groups=elements["group"].to_numpy(int),
        importance=np.nan_to_num(im, nan=0.0),
        required=np.where(keep, level, 0.0),
        weight=np.where(keep, weight, 0.0),
        tier=tier,
        facts=facts,
    )


def read_truth(path: str | Path) -> pd.DataFrame:
    """Ranked pairs of a truth file as ``source``, ``target`` (codes) and ``index`` (int >= 1);
    ``Relatedness Tier`` is optional and not used. Self-pairs are dropped and a repeated pair
    keeps its best index. Raises ExternalDataError naming the file (and column)."""
    path = Path(path)
    raw = read_csv(path, TRUTH_REQUIRED, (TIER,))
    index = _numbers(raw, INDEX, path)
    bad = index.isna() | (index < 1) | (index != np.floor(index))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise ExternalDataError(f"{path}: column {INDEX}: not a whole number >= 1 on line {row}")
    frame = pd.DataFrame(
        {
            "source": raw[CODE].str.strip(),
            "target": raw[RELATED].str.strip(),
            "index": index.astype(int),
        }
    )
    frame = frame.dropna(subset=["source", "target"])
    frame = frame[frame["source"] != frame["target"]]
    return frame.sort_values("index", kind="stable").drop_duplicates(["source", "target"])
