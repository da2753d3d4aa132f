"""Structure and population realism of a clean organisation against domain.md (issue 17).

Figures on a given date, each beside the range it should fall in:

- managerial share of active staff (JPT + administrator + pengawas posts held on the date);
- golongan mix (I, II, III, IV shares of active staff, grade in effect on the date);
- age bands (age = year of the date - birth year; share aged 51-60 and the bins);
- median years in tier before a JF expertise tier promotion (ahli pertama -> muda, muda -> madya,
  madya -> utama), from ``position_history`` (riwayat jabatan) if present, else ``career_moves``.

Dates: 1 January of the last history year (the last year with a move or a post start) and the
export date (the last dated event: move, post start, rank change, hire or exit).

The tolerance ranges are assumptions of this module (shares: about the domain.md figure plus or
minus 4 points, wider where domain.md gives a range; JF times: from the time at a steady Sangat
Baik rating to the time at a steady Butuh Perbaikan rating, since promotions also wait for a
vacancy), written next to what domain.md says and its
evidence tag; a figure outside its range is flagged, never hidden.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

MANAGERIAL = ("jpt", "administrator", "pengawas")
GOLONGAN = ("I", "II", "III", "IV")
AGE_BINS = ((18, 30), (31, 40), (41, 50), (51, 60), (61, 70))
JF_TIERS = ("ahli_pertama", "ahli_muda", "ahli_madya", "ahli_utama")


@dataclass(frozen=True)
class Target:
    """A domain.md figure: what it says (quoted), its evidence tag and the tolerance range."""

    says: str
    tag: str
    low: float
    high: float


#: statistic -> target. Shares are 0-1, times in years.
TARGETS: dict[str, Target] = {
    "managerial": Target("structural 11% (national mix, Dec 2021; §2.1)", "S", 0.07, 0.15),
    "golongan_I": Target("gol I about 1% (national 2021; §2.2)", "S partial", 0.005, 0.02),
    "golongan_II": Target("gol II about 16% (national 2021; §2.2)", "S partial", 0.12, 0.20),
    "golongan_III": Target("III 60-70% (grade distribution; §8)", "A", 0.55, 0.75),
    "golongan_IV": Target("IV 15-25% (grade distribution; §8)", "A", 0.12, 0.30),
    "age_51_60": Target(
        "about 30-35% aged 51-60, nationally (§8; 1.30 of 3.80 million, §2.5)", "S", 0.28, 0.40
    ),
    # JF tiers: from a steady Sangat Baik (150 %) to a steady Butuh Perbaikan (75 %) rating
    "tier_years_ahli_pertama": Target(
        "about 8 years at Baik (100 AK / 12.5), 5.3 at Sangat Baik (§2.4)", "S-code", 5.3, 10.7
    ),
    "tier_years_ahli_muda": Target(
        "200 AK / 25 = 8 years at Baik, 5.3 at Sangat Baik (§2.4)", "S-code", 5.3, 10.7
    ),
    "tier_years_ahli_madya": Target(
        "450 AK / 37.5 = 12 years at Baik, 8 at Sangat Baik (§2.4)", "S-code", 8.0, 16.0
    ),
}


def report_dates(tables: dict[str, pd.DataFrame]) -> dict[str, pd.Timestamp]:
    """``{"1 Jan <last history year>": ts, "export <date>": ts}``. Raises KeyError without
    ``employees``."""
    stamps = [tables["employees"][c].max() for c in ("hire_date", "end_date")]
    history: list[pd.Timestamp] = []
    for name, col in (("position_history", "start_date"), ("career_moves", "move_date")):
        if name in tables and len(tables[name]):
            history.append(tables[name][col].max())
    if "rank_history" in tables and len(tables["rank_history"]):
        stamps.append(tables["rank_history"]["effective_date"].max())
    stamps += history
    export = max(pd.Timestamp(s) for s in stamps if pd.notna(s))
    last_year = max(history).year if history else export.year
    jan = pd.Timestamp(f"{last_year}-01-01")
    return {f"1 Jan {last_year}": jan, f"export {export.date()}": export}


def active_on(employees: pd.DataFrame, when: pd.Timestamp) -> pd.DataFrame:
    """Employees hired on or before ``when`` and not gone by then (end_date empty or after)."""
    gone = employees["end_date"].notna() & (employees["end_date"] <= when)
    return employees[(employees["hire_date"] <= when) & ~gone]


def post_history(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, str]:
    """Rows ``employee_id, position_id, start_date`` and the name of the source table: the
    position history, else the moves plus each person's first known post (censored at the
    window: the posts held before the first move start at the hire date)."""
    if "position_history" in tables:
        ph = tables["position_history"][["employee_id", "position_id", "start_date"]]
        return ph, "position_history"
    moves = tables["career_moves"]
    moved = moves.rename(columns={"to_position_id": "position_id", "move_date": "start_date"})
    first = moves.sort_values("move_date").drop_duplicates("employee_id")
    first = first.merge(tables["employees"][["employee_id", "hire_date"]], on="employee_id")
    first = first.rename(columns={"from_position_id": "position_id", "hire_date": "start_date"})
    still = tables["employees"][~tables["employees"]["employee_id"].isin(moves["employee_id"])]
    still = still.rename(columns={"hire_date": "start_date"})
    cols = ["employee_id", "position_id", "start_date"]
    return pd.concat([first[cols], moved[cols], still[cols]], ignore_index=True), "career_moves"


def post_on(history: pd.DataFrame, when: pd.Timestamp) -> pd.Series:
    """employee_id -> position held on ``when`` (the last post started on or before it)."""
    held = history[history["start_date"] <= when].sort_values(["employee_id", "start_date"])
    return held.drop_duplicates("employee_id", keep="last").set_index("employee_id")["position_id"]


def grade_on(tables: dict[str, pd.DataFrame], when: pd.Timestamp) -> pd.Series:
    """employee_id -> grade in effect on ``when``: the last rank change on or before it, else the
    ``from_grade`` of the first later change, else the exported grade."""
    grade = tables["employees"].set_index("employee_id")["grade"].copy()
    ranks = tables.get("rank_history")
    if ranks is None or ranks.empty:
        return grade
    ranks = ranks.sort_values("effective_date")
    later = ranks[ranks["effective_date"] > when].drop_duplicates("employee_id", keep="first")
    grade.loc[later["employee_id"]] = later["from_grade"].to_numpy()
    done = ranks[ranks["effective_date"] <= when].drop_duplicates("employee_id", keep="last")
    grade.loc[done["employee_id"]] = done["to_grade"].to_numpy()
    return grade


def mix_on(tables: dict[str, pd.DataFrame], when: pd.Timestamp) -> dict[str, float]:
    """Managerial share, golongan shares and age bands (0-1) of staff active on ``when``, and
    ``active`` (their number)."""
    act = active_on(tables["employees"], when)
    ids = act["employee_id"]
    history, _ = post_history(tables)
    family = tables["positions"].set_index("position_id")["family"]
    fam = post_on(history, when).reindex(ids).map(family)
    out = {"active": float(len(act)), "managerial": float(fam.isin(MANAGERIAL).mean())}
    gol = grade_on(tables, when).reindex(ids).str.split("/").str[0]
    out.update({f"golongan_{g}": float((gol == g).mean()) for g in GOLONGAN})
    age = when.year - act["birth_year"]
    for lo, hi in AGE_BINS:
        out[f"age_{lo}_{hi}"] = float(age.between(lo, hi).mean())
    return out


def tier_years(tables: dict[str, pd.DataFrame]) -> tuple[dict[str, float], dict[str, int], str]:
    """Median years in tier before a JF expertise tier promotion, per tier (``tier_years_<tier>``),
    the number of promotions behind each, and the source table. A person's time in a tier runs
    from the first post of a consecutive run of posts at that tier to the post one tier up."""
    history, source = post_history(tables)
    tier = tables["positions"].set_index("position_id")["tier"]
    h = history.assign(tier=history["position_id"].map(tier)).sort_values(
        ["employee_id", "start_date"]
    )
    new_run = (h["tier"] != h.groupby("employee_id")["tier"].shift()) | (
        h["employee_id"] != h["employee_id"].shift()
    )
    runs = h[new_run].copy()
    runs["next_tier"] = runs.groupby("employee_id")["tier"].shift(-1)
    runs["next_start"] = runs.groupby("employee_id")["start_date"].shift(-1)
    medians: dict[str, float] = {}
    counts: dict[str, int] = {}
    for lower, upper in itertools.pairwise(JF_TIERS):
        up = runs[(runs["tier"] == lower) & (runs["next_tier"] == upper)]
        years = (up["next_start"] - up["start_date"]).dt.days / 365.25
        medians[f"tier_years_{lower}"] = float(years.median()) if len(years) else float("nan")
        counts[f"tier_years_{lower}"] = len(years)
    return medians, counts, source


def in_range(key: str, value: float) -> bool:
    """True if ``value`` lies in the tolerance range of ``TARGETS[key]`` (NaN is out of range)."""
    t = TARGETS[key]
    return bool(np.isfinite(value) and t.low <= value <= t.high)


def holder_years(tables: dict[str, pd.DataFrame], when: pd.Timestamp) -> dict[str, float]:
    """Median years in their tier so far of the JF holders active on ``when``, per tier
    (``holder_years_<tier>``; censored: not comparable to the time before a promotion)."""
    history, _ = post_history(tables)
    tier = tables["positions"].set_index("position_id")["tier"]
    h = history[history["start_date"] <= when]
    h = h.assign(tier=h["position_id"].map(tier)).sort_values(["employee_id", "start_date"])
    h = h[h["employee_id"].isin(active_on(tables["employees"], when)["employee_id"])]
    new_run = (h["tier"] != h.groupby("employee_id")["tier"].shift()) | (
        h["employee_id"] != h["employee_id"].shift()
    )
    current = h[new_run].drop_duplicates("employee_id", keep="last")
    years = (when - current["start_date"]).dt.days / 365.25
    return {f"holder_years_{t}": float(years[current["tier"] == t].median()) for t in JF_TIERS[:-1]}


def realism(tables: dict[str, pd.DataFrame]) -> dict[str, object]:
    """Everything above as a JSON-ready dict: ``{"dates": {label: {stat: value}},
    "jf_tier_years": {...}, "jf_promotions": {...}, "jf_source": str,
    "targets": {stat: {"says", "tag", "low", "high"}}, "in_range": {label|"jf": {stat: bool}}}``.
    Raises KeyError if a needed table (employees, positions, career_moves) is missing."""
    dates = {
        label: {**mix_on(tables, when), **holder_years(tables, when)}
        for label, when in report_dates(tables).items()
    }
    medians, counts, source = tier_years(tables)
    flags: dict[str, dict[str, bool]] = {
        label: {k: in_range(k, v) for k, v in figures.items() if k in TARGETS}
        for label, figures in dates.items()
    }
    flags["jf"] = {k: in_range(k, v) for k, v in medians.items()}
    return {
        "dates": dates,
        "jf_tier_years": medians,
        "jf_promotions": counts,
        "jf_source": source,
        "targets": {k: vars(t) for k, t in TARGETS.items()},
        "in_range": flags,
    }


def realism_lines(result: dict[str, object]) -> list[str]:
    """Readable lines of ``realism()`` for ``jenjang summary``."""
    dates: dict[str, dict[str, float]] = result["dates"]  # type: ignore[assignment]
    flags: dict[str, dict[str, bool]] = result["in_range"]  # type: ignore[assignment]
    lines = ["[bold]Against domain.md[/bold] (range = assumed tolerance; domain.md says, \\[tag])"]
    for label, fig in dates.items():
        lines.append(f"  {label}: {fig['active']:,.0f} active")
        for key in ("managerial", *(f"golongan_{g}" for g in GOLONGAN), "age_51_60"):
            lines.append(_line(key, 100 * fig[key], "%", flags[label][key]))
        bins = ", ".join(f"{lo}-{hi} {100 * fig[f'age_{lo}_{hi}']:.1f} %" for lo, hi in AGE_BINS)
        lines.append(f"    age bands: {bins}")
        held = ", ".join(f"{t} {fig[f'holder_years_{t}']:.1f}" for t in JF_TIERS[:-1])
        lines.append(f"    JF holders, median years in their tier so far (censored): {held}")
    medians: dict[str, float] = result["jf_tier_years"]  # type: ignore[assignment]
    counts: dict[str, int] = result["jf_promotions"]  # type: ignore[assignment]
    lines.append(f"  JF median years in tier before a tier promotion (from {result['jf_source']}):")
    for key, value in medians.items():
        lines.append(_line(key, value, "y", flags["jf"][key]) + f" ({counts[key]} promotions)")
    return lines


def _line(key: str, value: float, unit: str, ok: bool) -> str:
    t = TARGETS[key]
    scale = 100 if unit == "%" else 1
    mark = "in range" if ok else "[red]OUT OF RANGE[/red]"
    return (
        f"    {key:<24} {value:6.1f} {unit}  range {scale * t.low:g}-{scale * t.high:g} {unit}  "
        f"{mark}  (domain.md: {t.says} [{t.tag}])"
    )
