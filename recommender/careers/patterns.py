"""Reasons from career patterns: which programmes officers had completed before a given move.

"Of 40 officers who moved from A to B, 65 % had first completed C" is computed from the history
as it stood at a point in time ``at``: only moves dated before ``at`` count, and for each move
only completions (status ``completed``) that ended before the move's date. Moves of the types in
``exclude_types`` (by default ``equalisation``: the 2020 administrative conversion of structural
posts into functional ones, not a career choice) are left out.

Three levels, most specific first: the position pair (``from_position_id`` ->
``to_position_id``), the origin tier into the target position (e.g. ``pelaksana`` -> Analis
Hukum Ahli Pertama: "into"), and the tier pair (e.g. ``pengawas`` -> ``administrator``); a
coarser level is used when the finer one has nothing to show. An
officer counts once per pair (their earliest such move before ``at``).

Suppression, so that no one can be singled out; the table keeps only what may be shown:

* a pair is kept only when ``n_moves >= min_count``;
* a programme is kept for a pair only when ``completers >= min_cell`` **and** the officers who
  had not completed it are either none or at least ``min_cell`` (``n_moves - completers`` in
  ``1 .. min_cell - 1`` would point at a handful of non-completers: "37 of 40" tells the other
  three's colleagues who they are). "All 40" is kept: it describes the whole group and singles
  out no one;
* the median years in the previous post is given only when it rests on at least ``min_count``
  moves whose start in that post is in the history (``NaN`` otherwise).

Known limit: a tier pair and one of its position pairs can both be shown; their difference could
in principle describe a small group. :func:`reasons_for` shows the tier pair only for position
pairs that have nothing to show, which limits but does not rule this out.

Words: :func:`reasons_for` and :func:`tenure_for` speak English (``language="en"``, the default)
or Indonesian (``"id"``), all from the templates of :data:`TEXTS` ("Of 40 officers who moved
from A to B, 65 % had first completed C." / "Dari 40 pegawai yang pindah dari A ke B, 65 % lebih
dulu menyelesaikan C.").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import numpy as np
import pandas as pd

POSITION, INTO, TIER = "position", "into", "tier"
DEFAULT_EXCLUDED: tuple[str, ...] = ("equalisation",)
MOVE_COLUMNS = ("employee_id", "from_position_id", "to_position_id", "move_date", "move_type")
ENROLLMENT_COLUMNS = ("employee_id", "program_id", "end_date", "status")
POSITION_COLUMNS = ("position_id", "tier", "title")
PAIR_COLUMNS = ["level", "from_id", "to_id", "n_moves", "median_years"]
PROGRAM_COLUMNS = ["level", "from_id", "to_id", "program_id", "completers", "n_moves", "share"]
_KEY = ["from_id", "to_id"]
#: Languages of the words: English and Indonesian.
LANGUAGES: Final = ("en", "id")

#: Every sentence and label of the reasons, per language; ``{...}`` are filled by :func:`_say`.
TEXTS: Final[dict[str, dict[str, str]]] = {
    "completed": {
        "en": "Of {officers} who moved {label}, {percent} had first completed {title}.",
        "id": "Dari {officers} yang pindah {label}, {percent} lebih dulu menyelesaikan {title}.",
    },
    "tenure": {
        "en": (
            "Officers who moved {label} had spent a median of {years} years in their previous post."
        ),
        "id": (
            "Median lama pegawai yang pindah {label} menduduki jabatan sebelumnya "
            "adalah {years} tahun."
        ),
    },
    "from_to": {"en": "from {a} to {b}", "id": "dari {a} ke {b}"},
    "between_units": {"en": "between units as {a}", "id": "antarunit sebagai {a}"},
    "within_tier": {"en": "within {tier}", "id": "antarjabatan dalam jenjang {tier}"},
    "officer": {"en": "{n} officer", "id": "{n} pegawai"},
    "officers": {"en": "{n} officers", "id": "{n} pegawai"},
    "percent": {"en": "{p} %", "id": "{p} %"},
}


@dataclass(frozen=True, eq=False)
class PatternTable:
    """Publishable career patterns at ``at`` (nothing below the suppression thresholds).

    ``pairs``: one row per pair shown (``level`` "position"/"into"/"tier", ``from_id``, ``to_id``,
    ``n_moves``, ``median_years``); ``programs``: one row per pair and programme (``level``,
    ``from_id``, ``to_id``, ``program_id``, ``completers``, ``n_moves``, ``share`` 0-1);
    ``positions``: ``tier`` and ``title`` indexed by ``position_id``.
    """

    pairs: pd.DataFrame
    programs: pd.DataFrame
    positions: pd.DataFrame
    at: pd.Timestamp
    min_count: int
    min_cell: int


def move_patterns(
    moves: pd.DataFrame,
    enrollments: pd.DataFrame,
    positions: pd.DataFrame,
    at: pd.Timestamp,
    min_count: int = 10,
    min_cell: int = 5,
    lookback_years: int | None = None,
    exclude_types: tuple[str, ...] = DEFAULT_EXCLUDED,
) -> PatternTable:
    """Career patterns from the moves before ``at`` (see the module docstring for the rules).

    ``moves``: ``employee_id``, ``from_position_id``, ``to_position_id``, ``move_date``,
    ``move_type`` (clean ``career_moves``); ``enrollments``: ``employee_id``, ``program_id``,
    ``end_date``, ``status``; ``positions``: ``position_id``, ``tier``, ``title``.
    ``lookback_years`` keeps only moves in the last so many years before ``at``. Runs in linear
    time (merges and group-bys). Raises ValueError on missing columns or thresholds below 1.
    """
    _check(moves, enrollments, positions, min_count, min_cell, lookback_years)
    counts = pattern_counts(moves, enrollments, positions, at, lookback_years, exclude_types)
    return patterns_from(counts, positions, at, min_count, min_cell)


@dataclass(frozen=True)
class LevelCounts:
    """One level's additive counts over a group of officers: ``pairs`` (``from_id``, ``to_id``,
    ``n_moves``: officers per pair), ``years`` (``from_id``, ``to_id``, ``years``: one value
    per first move whose start in the previous post is known) and ``completers`` (``from_id``,
    ``to_id``, ``program_id``, ``completers``), for every pair before suppression."""

    pairs: pd.DataFrame
    years: pd.DataFrame
    completers: pd.DataFrame

    def __add__(self, other: LevelCounts) -> LevelCounts:
        return LevelCounts(
            _summed([self.pairs, other.pairs], _KEY, "n_moves"),
            pd.concat([self.years, other.years], ignore_index=True),
            _summed([self.completers, other.completers], [*_KEY, "program_id"], "completers"),
        )


@dataclass(frozen=True)
class PatternCounts:
    """:class:`LevelCounts` per level (position, into, tier): the counts of any split of the
    officers add up to those of all of them (first moves are per officer)."""

    levels: dict[str, LevelCounts]

    def __add__(self, other: PatternCounts) -> PatternCounts:
        return PatternCounts({k: v + other.levels[k] for k, v in self.levels.items()})


def _summed(frames: list[pd.DataFrame], key: list[str], column: str) -> pd.DataFrame:
    """``frames`` concatenated and ``column`` summed per ``key`` (sorted by ``key``)."""
    both = pd.concat(frames, ignore_index=True)
    return both.groupby(key, sort=True)[column].sum().astype(np.int64).reset_index()


def pattern_counts(
    moves: pd.DataFrame,
    enrollments: pd.DataFrame,
    positions: pd.DataFrame,
    at: pd.Timestamp,
    lookback_years: int | None = None,
    exclude_types: tuple[str, ...] = DEFAULT_EXCLUDED,
) -> PatternCounts:
    """The :class:`PatternCounts` of the officers whose rows ``moves`` and ``enrollments`` hold
    (all of an officer's rows, or none), from the moves before ``at``."""
    at = pd.Timestamp(at)
    moves = moves.assign(move_date=pd.to_datetime(moves["move_date"]))
    enrollments = enrollments.assign(end_date=pd.to_datetime(enrollments["end_date"]))
    pos = _position_index(positions)
    history = moves.loc[moves["move_date"] < at, list(MOVE_COLUMNS)].reset_index(drop=True)
    history = history.assign(years=_years_in_previous_post(history))
    kept = history[~history["move_type"].isin(exclude_types)]
    if lookback_years is not None:
        kept = kept[kept["move_date"] >= at - pd.DateOffset(years=lookback_years)]
    done = enrollments.loc[
        (enrollments["status"] == "completed") & (enrollments["end_date"] < at),
        ["employee_id", "program_id", "end_date"],
    ]
    levels = {
        POSITION: _position_moves(kept),
        INTO: _into_moves(kept, pos),
        TIER: _tier_moves(kept, pos),
    }
    return PatternCounts({k: _level_counts(v, done) for k, v in levels.items()})


def patterns_from(
    counts: PatternCounts,
    positions: pd.DataFrame,
    at: pd.Timestamp,
    min_count: int = 10,
    min_cell: int = 5,
) -> PatternTable:
    """The publishable :class:`PatternTable` of summed ``counts`` (suppression applied)."""
    pairs, progs = [], []
    for level in (POSITION, INTO, TIER):
        p, g = _level_patterns(counts.levels[level], min_count, min_cell)
        pairs.append(p.assign(level=level))
        progs.append(g.assign(level=level))
    return PatternTable(
        pd.concat(pairs, ignore_index=True)[PAIR_COLUMNS],
        pd.concat(progs, ignore_index=True)[PROGRAM_COLUMNS],
        _position_index(positions),
        pd.Timestamp(at),
        min_count,
        min_cell,
    )


def _position_index(positions: pd.DataFrame) -> pd.DataFrame:
    """``tier`` and ``title`` indexed by ``position_id`` (first row of a duplicated id)."""
    return positions.drop_duplicates("position_id").set_index("position_id")[["tier", "title"]]


def reasons_for(
    table: PatternTable,
    from_position_id: str,
    to_position_id: str,
    titles: Mapping[str, str],
    top: int = 3,
    *,
    language: str = "en",
) -> list[str]:
    """Up to ``top`` sentences on the programmes movers from one position to another had
    completed, most common first, e.g. "Of 40 officers who moved from Pengawas X to
    Administrator Y, 65 % had first completed Pelatihan Z." (``language`` "en") or "Dari 40
    pegawai yang pindah dari Pengawas X ke Administrator Y, 65 % lebih dulu menyelesaikan
    Pelatihan Z." ("id").

    Uses the position pair when it has a programme to show, else the tier pair, else returns
    an empty list. ``titles`` maps programme id -> title (the id is shown when missing).
    Raises ValueError for an unknown ``language``.
    """
    _check_language(language)
    lang = language
    for level, pair, label in _candidate_pairs(table, from_position_id, to_position_id, lang):
        rows = _rows(table, "programs", level, pair)
        if rows.empty:
            continue
        rows = rows.sort_values(
            ["share", "completers", "program_id"], ascending=[False, False, True]
        )
        rows = rows.head(top)
        return [
            _say(
                "completed",
                lang,
                officers=_officers(int(n), lang),
                label=label,
                percent=_percent(float(share), lang),
                title=titles.get(str(pid), str(pid)),
            )
            for n, share, pid in zip(
                rows["n_moves"], rows["share"], rows["program_id"], strict=True
            )
        ]
    return []


def tenure_for(
    table: PatternTable, from_position_id: str, to_position_id: str, *, language: str = "en"
) -> str | None:
    """E.g. "Officers who moved from A to B had spent a median of 3.5 years in their previous
    post." (``language`` "en") or "Median lama pegawai yang pindah dari A ke B menduduki jabatan
    sebelumnya adalah 3,5 tahun." ("id") from the position pair, else the tier pair; None when
    neither has a median. Raises ValueError for an unknown ``language``."""
    _check_language(language)
    lang = language
    for level, pair, label in _candidate_pairs(table, from_position_id, to_position_id, lang):
        rows = _rows(table, "pairs", level, pair)
        if len(rows) and pd.notna(rows["median_years"].iloc[0]):
            years = _decimal(f"{float(rows['median_years'].iloc[0]):.1f}", lang)
            return _say("tenure", lang, label=label, years=years)
    return None


# --- building the table ------------------------------------------------------------------------


def _check_language(language: str) -> None:
    """Raise ValueError unless ``language`` is one of :data:`LANGUAGES`."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, got {language!r}")


def _check(
    moves: pd.DataFrame,
    enrollments: pd.DataFrame,
    positions: pd.DataFrame,
    min_count: int,
    min_cell: int,
    lookback_years: int | None,
) -> None:
    """Raise ValueError on missing columns or thresholds out of range."""
    for name, frame, cols in (
        ("moves", moves, MOVE_COLUMNS),
        ("enrollments", enrollments, ENROLLMENT_COLUMNS),
        ("positions", positions, POSITION_COLUMNS),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} is missing columns {missing}")
    if min_count < 1 or min_cell < 1:
        raise ValueError("min_count and min_cell must be at least 1")
    if lookback_years is not None and lookback_years < 1:
        raise ValueError("lookback_years must be at least 1 (or None for all history)")


def _years_in_previous_post(history: pd.DataFrame) -> pd.Series:
    """Years between a move and the same officer's previous move into the post they leave
    (NaN when that move is not in the history). Index aligned with ``history``."""
    h = history.sort_values(["employee_id", "move_date"], kind="stable")
    by = h.groupby("employee_id", sort=False)
    prev_to, prev_date = by["to_position_id"].shift(), by["move_date"].shift()
    years = (h["move_date"] - prev_date).dt.days / 365.25
    return years.where(prev_to == h["from_position_id"]).reindex(history.index)


def _position_moves(moves: pd.DataFrame) -> pd.DataFrame:
    """Moves as (employee_id, from_id, to_id, move_date, years) at the position level."""
    return moves.rename(columns={"from_position_id": "from_id", "to_position_id": "to_id"})[
        ["employee_id", "from_id", "to_id", "move_date", "years"]
    ]


def _into_moves(moves: pd.DataFrame, pos: pd.DataFrame) -> pd.DataFrame:
    """Moves from a tier into one position (e.g. pelaksana -> Analis Hukum Ahli Pertama)."""
    out = moves.assign(
        from_id=moves["from_position_id"].map(pos["tier"]), to_id=moves["to_position_id"]
    )[["employee_id", "from_id", "to_id", "move_date", "years"]]
    return out.dropna(subset=_KEY)


def _tier_moves(moves: pd.DataFrame, pos: pd.DataFrame) -> pd.DataFrame:
    """Moves at the tier level (positions without a known tier are left out)."""
    tier = pos["tier"]
    out = moves.assign(
        from_id=moves["from_position_id"].map(tier), to_id=moves["to_position_id"].map(tier)
    )[["employee_id", "from_id", "to_id", "move_date", "years"]]
    return out.dropna(subset=_KEY)


def _level_counts(moves: pd.DataFrame, done: pd.DataFrame) -> LevelCounts:
    """Officers per pair (their earliest move), the years of those first moves and the
    completers per pair and programme (completions that ended before the move)."""
    first = moves.sort_values("move_date", kind="stable").drop_duplicates(
        ["employee_id", *_KEY], keep="first"
    )
    pairs = first.groupby(_KEY, sort=True).size().astype(np.int64).rename("n_moves")
    years = first.loc[first["years"].notna(), [*_KEY, "years"]].reset_index(drop=True)
    before = first.merge(done, on="employee_id")
    before = before[before["end_date"] < before["move_date"]]
    completers = (
        before.drop_duplicates(["employee_id", *_KEY, "program_id"])
        .groupby([*_KEY, "program_id"], sort=True)
        .size()
        .astype(np.int64)
        .rename("completers")
        .reset_index()
    )
    return LevelCounts(pairs.reset_index(), years, completers)


def _level_patterns(
    counts: LevelCounts, min_count: int, min_cell: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Pairs with at least ``min_count`` officers, and their programmes that pass suppression."""
    pairs = counts.pairs.set_index(_KEY)[["n_moves"]]
    by_pair = counts.years.groupby(_KEY, sort=True)["years"]
    n_years = by_pair.count().reindex(pairs.index, fill_value=0)
    pairs["median_years"] = by_pair.median().reindex(pairs.index).astype(float)
    pairs = pairs[pairs["n_moves"] >= min_count]
    pairs["median_years"] = pairs["median_years"].where(n_years.reindex(pairs.index) >= min_count)
    pairs = pairs.reset_index()
    completers = counts.completers.merge(pairs[[*_KEY, "n_moves"]], on=_KEY)
    rest = completers["n_moves"] - completers["completers"]
    shown = (completers["completers"] >= min_cell) & ((rest == 0) | (rest >= min_cell))
    progs = completers[shown].assign(share=lambda d: d["completers"] / d["n_moves"])
    return pairs, progs.reset_index(drop=True)


# --- reading the table ------------------------------------------------------------------------


def _candidate_pairs(
    table: PatternTable, from_position_id: str, to_position_id: str, lang: str
) -> list[tuple[str, tuple[str, str], str]]:
    """(level, (from_id, to_id), words) for the position pair, then the tier pair if known."""
    title, tier = _position_words(table)
    a, b = title.get(from_position_id, from_position_id), title.get(to_position_id, to_position_id)
    if from_position_id == to_position_id:
        words = _say("between_units", lang, a=a)
    else:
        words = _say("from_to", lang, a=a, b=b)
    out = [(POSITION, (from_position_id, to_position_id), words)]
    ta, tb = tier.get(from_position_id), tier.get(to_position_id)
    if ta is not None and from_position_id != to_position_id:
        into = title.get(to_position_id, to_position_id)
        out.append((INTO, (ta, to_position_id), _say("from_to", lang, a=_words(ta), b=into)))
    if ta is not None and tb is not None:
        if ta == tb:
            words = _say("within_tier", lang, tier=_words(ta))
        else:
            words = _say("from_to", lang, a=_words(ta), b=_words(tb))
        out.append((TIER, (ta, tb), words))
    return out


@lru_cache(maxsize=8)
def _position_words(table: PatternTable) -> tuple[dict[str, str], dict[str, str]]:
    """Title and tier per position id (built once per table: tables are immutable)."""
    pos = table.positions
    titles = {str(k): str(v) for k, v in pos["title"].items()}
    tiers = {str(k): str(v) for k, v in pos["tier"].items() if isinstance(v, str)}
    return titles, tiers


@lru_cache(maxsize=16)
def _grouped(frame_of: PatternTable, which: str) -> dict[tuple[str, str, str], pd.DataFrame]:
    """Rows of ``table.pairs`` or ``table.programs`` by (level, from_id, to_id), built once."""
    frame: pd.DataFrame = getattr(frame_of, which)
    if frame.empty:
        return {}
    return {
        (str(k[0]), str(k[1]), str(k[2])): part
        for k, part in frame.groupby(["level", "from_id", "to_id"], sort=False)
    }


def _rows(table: PatternTable, which: str, level: str, pair: tuple[str, str]) -> pd.DataFrame:
    """Rows of one level and pair of ``table.pairs`` or ``table.programs``."""
    frame: pd.DataFrame = getattr(table, which)
    return _grouped(table, which).get((level, pair[0], pair[1]), frame.iloc[:0])


def _words(tier: str) -> str:
    """'ahli_muda' -> 'ahli muda'."""
    return tier.replace("_", " ")


def _say(key: str, lang: str, **values: object) -> str:
    """The sentence or label ``key`` of :data:`TEXTS` in ``lang`` with ``values`` filled in."""
    return TEXTS[key][lang].format(**values)


def _decimal(text: str, lang: str) -> str:
    """English number text in the language: Indonesian writes '3,5' for '3.5'."""
    return text.replace(".", ",") if lang == "id" else text


def _officers(n: int, lang: str) -> str:
    """'1 officer', '40 officers' (en); '1 pegawai', '40 pegawai' (id)."""
    return _say("officer" if n == 1 else "officers", lang, n=n)


def _percent(share: float, lang: str) -> str:
    """0.645 -> '65 %' (half up)."""
    return _say("percent", lang, p=int(np.floor(share * 100 + 0.5)))
