"""Training volume of a generated organisation, per year: enrolments per person-year, JP per
person-year (median, p10, p90), the share reaching 20 JP and the non-classical JP share, the
assigned share of enrolments. The figures of ``docs/synthetic-behaviour.md`` ("Training volume")
come from here:

    python -m training.synthetic.volume --employees 5000 --seed 7 [--world NAME] [--raw DIR]

Computed on the raw tables (with NIPs), so no ingest is needed.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from recommender import domain
from recommender.data.io import read_tables

YEARS = tuple(range(2019, 2026))


def volume_table(*, frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per year 2019-2025 over the people employed the whole year: ``people``,
    ``enrolments_pp``, ``jp_median``, ``jp_p10``, ``jp_p90``, ``reach_20``,
    ``non_classical_share`` (of credited JP), ``assigned_share`` (of enrolments).

    Raises KeyError when the employees, enrollments or programs table is missing.
    """
    emp, enr, prog = frames["employees"], frames["enrollments"], frames["programs"]
    classical = enr["program_id"].map(prog.set_index("program_id")["classical"].astype(bool))
    start = pd.to_datetime(enr["start_date"])
    hire, end = pd.to_datetime(emp["hire_date"]), pd.to_datetime(emp["end_date"])
    rows = []
    for year in YEARS:
        whole = emp.loc[(hire <= f"{year}-01-01") & (end.isna() | (end > f"{year}-12-31")), "nip"]
        here = (start.dt.year == year) & enr["nip"].isin(whole)
        e = enr[here]
        done = e["status"] == "completed"
        jp = e.loc[done].groupby("nip")["jp_credited"].sum().reindex(whole, fill_value=0)
        credited = e.loc[done, "jp_credited"].fillna(0)
        nc = credited[~classical[here][done]].sum() / max(float(credited.sum()), 1.0)
        rows.append(
            {
                "year": year,
                "people": len(whole),
                "enrolments_pp": len(e) / max(len(whole), 1),
                "jp_median": float(jp.median()),
                "jp_p10": float(jp.quantile(0.1)),
                "jp_p90": float(jp.quantile(0.9)),
                "reach_20": float((jp >= domain.MIN_JP_PER_YEAR).mean()),
                "non_classical_share": float(nc),
                "assigned_share": float((e["source"] == "assigned").mean()),
            }
        )
    return pd.DataFrame(rows)


def markdown(*, table: pd.DataFrame) -> str:
    """The table as markdown (one line per year), for the docs."""
    head = (
        "| year | people | enrolments / person | JP median | p10 | p90 | reach 20 JP "
        "| non-classical JP | assigned |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    for r in table.itertuples():
        lines.append(
            f"| {r.year} | {r.people:,} | {r.enrolments_pp:.2f} | {r.jp_median:.0f} | "
            f"{r.jp_p10:.0f} | {r.jp_p90:.0f} | {100 * r.reach_20:.0f} % | "
            f"{100 * r.non_classical_share:.0f} % | {100 * r.assigned_share:.0f} % |"
        )
    return "\n".join(lines)


def main() -> None:
    """Generate (or read ``--raw``) and print the volume table."""
    from training.synthetic.generate import generate

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--employees", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--world", default="self_selection")
    parser.add_argument("--raw", type=Path, default=None, help="read this folder instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jenjang-volume-") as tmp:
        raw = args.raw
        if raw is None:
            raw = Path(tmp) / "raw"
            generate(args.employees, args.seed, raw, world=args.world)
        table = volume_table(frames=read_tables(raw))
    print(f"# {args.world}, {args.employees:,} employees, seed {args.seed}")
    print(markdown(table=table))


if __name__ == "__main__":
    main()
