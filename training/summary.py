"""Summary statistics of a clean organisation: who works there, what they trained, how careers
moved. Used by ``jenjang summary`` and by the tests that hold the generator to its documented
ranges (``docs/synthetic-behaviour.md``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from recommender import domain
from recommender.data.io import load_clean
from training.summary_realism import realism, realism_lines

EXPORT_DATE = pd.Timestamp("2025-12-31")


def _active(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    emp = tables["employees"]
    return emp[emp["status"] == "active"]


def people_stats(tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Shares of the active workforce (0-1) and the median age at the export date."""
    act = _active(tables)
    fam = act["position_id"].map(tables["positions"].set_index("position_id")["family"])
    age = EXPORT_DATE.year - act["birth_year"]
    grade_group = act["grade"].str.split("/").str[0]
    edu = act["education"]
    return {
        "employees": float(len(tables["employees"])),
        "active": float(len(act)),
        "female": float((act["sex"] == "P").mean()),
        "age_median": float(age.median()),
        "age_51_plus": float((age >= 51).mean()),
        "degree": float(edu.isin(["D4", "S1", "S2", "S3"]).mean()),
        "s2_s3": float(edu.isin(["S2", "S3"]).mean()),
        "grade_II": float((grade_group == "II").mean()),
        "grade_III": float((grade_group == "III").mean()),
        "grade_IV": float((grade_group == "IV").mean()),
        "functional": float((fam == "fungsional").mean()),
        "pelaksana": float((fam == "pelaksana").mean()),
        "managerial": float(fam.isin(["jpt", "administrator", "pengawas"]).mean()),
    }


def training_stats(tables: dict[str, pd.DataFrame], year: int = 2025) -> dict[str, float]:
    """Enrolment outcomes and the 20-JP rule for one year (people active all that year)."""
    enr = tables["enrollments"].merge(
        tables["programs"][["program_id", "classical", "modality"]], on="program_id"
    )
    enr = enr[enr["start_date"].dt.year == year]
    done = enr["status"] == "completed"
    emp = tables["employees"]
    whole_year = emp[
        (emp["hire_date"] <= f"{year}-01-01")
        & ((emp["end_date"].isna()) | (emp["end_date"] > f"{year}-12-31"))
    ]
    jp = enr[done].groupby("employee_id")["jp_credited"].sum()
    jp = jp.reindex(whole_year["employee_id"], fill_value=0)
    classical = enr["classical"].astype(bool)
    self_paced = enr["modality"].isin(domain.SELF_PACED)
    jp_done = enr.loc[done, "jp_credited"].fillna(0)
    return {
        "enrolments_per_person": float(len(enr) / max(len(whole_year), 1)),
        "completion_classical": float(done[classical].mean()),
        "completion_self_paced": float(done[self_paced].mean()),
        "jp_median": float(jp.median()),
        "jp_p10": float(jp.quantile(0.1)),
        "jp_p90": float(jp.quantile(0.9)),
        "reach_20_jp": float((jp >= domain.MIN_JP_PER_YEAR).mean()),
        "non_classical_jp_share": float(jp_done[~classical[done]].sum() / max(jp_done.sum(), 1)),
    }


def career_stats(tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Moves per type, rating shares and assessment coverage."""
    moves = tables["career_moves"]["move_type"].value_counts()
    ratings = tables["appraisals"]["rating"].value_counts(normalize=True)
    act = _active(tables)
    managerial_ids = tables["competencies"].query("type == 'manajerial'")["competency_id"]
    assessed = tables["assessments"][tables["assessments"]["competency_id"].isin(managerial_ids)]
    out = {f"moves_{k}": float(v) for k, v in moves.items()}
    out.update({f"rating_{k}": float(v) for k, v in ratings.items()})
    out["assessed_share"] = float(act["employee_id"].isin(assessed["employee_id"]).mean())
    out["rating_persistence"] = _persistence(tables["appraisals"])
    return out


def _persistence(appraisals: pd.DataFrame) -> float:
    wide = appraisals.pivot(index="employee_id", columns="year", values="rating")
    same = [
        (wide[y] == wide[y + 1])[wide[y].notna() & wide[y + 1].notna()]
        for y in wide.columns[:-1]
        if y + 1 in wide.columns
    ]
    return float(pd.concat(same).mean()) if same else float("nan")


def stats(directory: str | Path) -> dict[str, float]:
    """Every statistic above for the clean tables in ``directory``."""
    tables = load_clean(directory)
    return {**people_stats(tables), **training_stats(tables), **career_stats(tables)}


def summary_json(directory: str | Path) -> dict[str, object]:
    """``{"stats": stats(), "realism": realism()}`` for ``jenjang summary --json``. Raises
    DataSourceError if there are no tables."""
    tables = load_clean(directory)
    figures = {**people_stats(tables), **training_stats(tables), **career_stats(tables)}
    return {"stats": figures, "realism": realism(tables)}


def summarise(directory: str | Path) -> list[str]:
    """Readable lines for ``jenjang summary``, ending with the figures against domain.md. Raises
    DataSourceError if there are no tables."""
    both = summary_json(directory)
    s: dict[str, float] = both["stats"]  # type: ignore[assignment]
    pct = lambda k: f"{100 * s.get(k, np.nan):.0f} %"  # noqa: E731
    return [
        f"[bold]Organisation in {directory}[/bold]",
        f"  employees {s['employees']:,.0f} (active {s['active']:,.0f}); women {pct('female')}; "
        f"median age {s['age_median']:.0f}; degree holders {pct('degree')}",
        f"  positions: functional {pct('functional')}, pelaksana {pct('pelaksana')}, managerial "
        f"{pct('managerial')}; grades II/III/IV {pct('grade_II')}/{pct('grade_III')}/"
        f"{pct('grade_IV')}",
        f"[bold]Training in 2025[/bold]: {s['enrolments_per_person']:.1f} enrolments a person; "
        f"completion classical {pct('completion_classical')}, self-paced "
        f"{pct('completion_self_paced')}",
        f"  JP per person median {s['jp_median']:.0f} (p10 {s['jp_p10']:.0f}, p90 "
        f"{s['jp_p90']:.0f}); reached 20 JP {pct('reach_20_jp')}; non-classical JP "
        f"{pct('non_classical_jp_share')}",
        "[bold]Careers 2019-2025[/bold]: "
        + ", ".join(f"{k[6:]} {v:,.0f}" for k, v in s.items() if k.startswith("moves_")),
        f"  ratings: Sangat Baik {pct('rating_Sangat Baik')}, Baik {pct('rating_Baik')}; same "
        f"rating next year {pct('rating_persistence')}; with a managerial assessment "
        f"{pct('assessed_share')}",
        *realism_lines(both["realism"]),  # type: ignore[arg-type]
    ]
