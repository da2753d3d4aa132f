"""Render the data contract (``recommender.data.schema``) as Markdown for ``docs/``.

    python -m training.contract_doc > docs/data-contract.md

A test keeps the committed file in step with the code.
"""

from __future__ import annotations

from recommender.data.schema import PROFILES, TABLES, Column, Table

HEADER = """# Data contract

Generated from `recommender/data/schema.py` by `python -m training.contract_doc`; do not edit by
hand. Raw tables arrive as CSV or Parquet files named `<table>.csv`, `<table>.csv.gz` or
`<table>.parquet` in one folder (a large table may be a folder `<table>/` of Parquet parts,
read in file-name order), or as tables of a SQL database (`sqlite:///file.db`,
`postgresql://...`). `jenjang validate` checks them and reports every problem as table, row
(1-based, header excluded), column, value and rule; `jenjang ingest` writes the clean tables
(Parquet, NIP replaced by `employee_id`, the keyed pseudonym; employees keep `birth_year` only)
and a `quarantine/` folder with each rejected row and its reasons.

Kinds: `nip` (18 digits, spaces allowed, checked against birth date and sex), `grade`
(`III/d`, `III-d`, `3d`, `Penata Tk. I / III-d` ...), `rating` (case-insensitive; legacy labels
and 0-100 scores mapped), `date` (ISO, `DD-MM-YYYY`, Indonesian month names), `modality`
(free-text training types mapped onto the LAN list), `list` (`;`-separated values).

Position history (`position_history`, the riwayat jabatan) is optional: with it the snapshot
takes the post held on a date and its start (TMT jabatan) from the last row starting before the
date (tenure unknown when the history begins after the date). Without it (older exports) the
start is the last career move before the date, else the later of the hire date and the first
recorded move of the table: tenure is censored at that window start for everyone, because the
employees table's `position_start_date` is a fact of the export date and would reveal who moves
later.

## Profiles (which tables a data set needs)

"""


def _column_row(c: Column) -> str:
    rules = []
    if c.allowed is not None:
        shown = ", ".join(c.allowed[:8]) + (", ..." if len(c.allowed) > 8 else "")
        rules.append(f"one of {shown}")
    if c.min is not None or c.max is not None:
        rules.append(
            f"{c.min:g} to {c.max:g}"
            if c.min is not None and c.max is not None
            else f">= {c.min:g}"
            if c.min is not None
            else f"<= {c.max:g}"
        )
    if c.references:
        rules.append(f"refers to `{c.references}`")
    if c.clean_name:
        rules.append(f"clean name `{c.clean_name}`")
    if c.description:
        rules.append(c.description)
    need = "required" if c.required else "optional"
    null = ", may be empty" if c.nullable else ""
    return f"| `{c.name}` | {c.kind.value} | {need}{null} | {'; '.join(rules)} |"


def table_markdown(t: Table) -> str:
    """One table's section."""
    lines = [f"## `{t.name}`", "", t.description, ""]
    if t.key:
        lines += [f"Key (unique): {', '.join(f'`{k}`' for k in t.key)}", ""]
    lines += ["| column | kind | presence | rules |", "|---|---|---|---|"]
    lines += [_column_row(c) for c in t.columns]
    if t.rules:
        lines += ["", "Row rules: " + "; ".join(f"`{n}` ({msg})" for n, msg, _ in t.rules) + "."]
    return "\n".join(lines) + "\n"


def contract_markdown() -> str:
    """The whole document."""
    profiles = "\n".join(f"- `{name}`: {', '.join(tables)}" for name, tables in PROFILES.items())
    return HEADER + profiles + "\n\n" + "\n".join(table_markdown(t) for t in TABLES.values())


if __name__ == "__main__":
    print(contract_markdown(), end="")
