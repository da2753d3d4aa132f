"""CSV and XLSX exports of the training-needs report (:class:`NeedsReport`), labels in
Indonesian or English; the layouts are documented on :func:`to_csv` and :func:`to_xlsx`."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any, Final

import numpy as np

from recommender.reports.needs_model import COHORT_COLUMNS, EMPLOYEE_COLUMNS, NeedsReport

LANGUAGES: Final = ("id", "en")

_LABELS: Final[dict[str, dict[str, str]]] = {
    "sheet_summary": {"id": "Ringkasan", "en": "Summary"},
    "sheet_cohorts": {"id": "Kohort", "en": "Cohorts"},
    "sheet_gaps": {"id": "Kesenjangan", "en": "Gaps"},
    "sheet_employees": {"id": "Pegawai", "en": "Employees"},
    "total": {"id": "JUMLAH", "en": "TOTAL"},
    "yes": {"id": "ya", "en": "yes"},
    "no": {"id": "tidak", "en": "no"},
    "figure": {"id": "Ukuran", "en": "Figure"},
    "value": {"id": "Nilai", "en": "Value"},
    # cohort columns
    "program_id": {"id": "ID program", "en": "Programme ID"},
    "title": {"id": "Judul program", "en": "Programme title"},
    "modality": {"id": "Modalitas", "en": "Modality"},
    "classical": {"id": "Klasikal", "en": "Classical"},
    "lan_accredited": {"id": "Terakreditasi LAN", "en": "LAN accredited"},
    "participants": {"id": "Peserta", "en": "Participants"},
    "batches": {"id": "Angkatan", "en": "Batches"},
    "jp": {"id": "JP per peserta", "en": "JP per participant"},
    "jp_total": {"id": "Jumlah JP", "en": "Total JP"},
    "cost_per_participant": {"id": "Biaya per peserta (Rp)", "en": "Cost per participant (IDR)"},
    "cost_total": {"id": "Jumlah biaya (Rp)", "en": "Total cost (IDR)"},
    # employee columns
    "employee_id": {"id": "ID pegawai (pseudonim)", "en": "Employee ID (pseudonym)"},
    "position_id": {"id": "ID jabatan", "en": "Position ID"},
    "position_title": {"id": "Jabatan", "en": "Position"},
    "jp_previous_year": {"id": "JP tahun lalu", "en": "JP last year"},
    "jp_realised": {"id": "JP terealisasi", "en": "JP realised"},
    "jp_planned": {"id": "JP direncanakan", "en": "JP planned"},
    "meets_20_planned": {"id": "Memenuhi 20 JP (rencana)", "en": "Meets 20 JP (planned)"},
    # summary figures
    "unit_id": {"id": "ID unit", "en": "Unit ID"},
    "unit_name": {"id": "Unit", "en": "Unit"},
    "year": {"id": "Tahun", "en": "Year"},
    "as_of": {"id": "Per tanggal", "en": "As of"},
    "headcount": {"id": "Jumlah pegawai", "en": "Headcount"},
    "budget": {"id": "Anggaran (Rp)", "en": "Budget (IDR)"},
    "total_cost": {"id": "Jumlah biaya (Rp)", "en": "Total cost (IDR)"},
    "remaining_budget": {"id": "Sisa anggaran (Rp)", "en": "Remaining budget (IDR)"},
    "over_budget": {"id": "Melebihi anggaran", "en": "Over budget"},
    "total_participants": {"id": "Jumlah peserta", "en": "Total participants"},
    "total_jp": {"id": "Jumlah JP direncanakan", "en": "Total JP planned"},
    "compliance_realised": {
        "id": "Pegawai >= 20 JP terealisasi",
        "en": "Employees >= 20 JP realised",
    },
    "compliance_previous_year": {
        "id": "Pegawai >= 20 JP tahun lalu",
        "en": "Employees >= 20 JP last year",
    },
    "compliance_planned": {
        "id": "Pegawai >= 20 JP (realisasi + rencana)",
        "en": "Employees >= 20 JP (realised + planned)",
    },
    "non_classical_share_planned": {
        "id": "Porsi JP nonklasikal (rencana)",
        "en": "Non-classical JP share (planned)",
    },
    "non_classical_share_realised": {
        "id": "Porsi JP nonklasikal (realisasi)",
        "en": "Non-classical JP share (realised)",
    },
    "unassessed": {
        "id": "Pegawai belum diases pada kompetensi wajib",
        "en": "People not assessed on a required competency",
    },
    "priority_year": {"id": "Tahun prioritas", "en": "Priority year"},
    # gaps sheet
    "gap_people": {"id": "Jumlah pegawai dengan kesenjangan", "en": "People with a gap"},
    "gap_weighted": {
        "id": "Kesenjangan tertimbang (bobot x prioritas)",
        "en": "Weighted gap (weight x priority)",
    },
    "people": {"id": "Pegawai", "en": "People"},
    "competency_name": {"id": "(nama kompetensi)", "en": "(competency name)"},
}

#: Summary figures in the order of the CSV summary block and the summary sheet.
SUMMARY_KEYS: Final = (
    "unit_id",
    "unit_name",
    "year",
    "as_of",
    "headcount",
    "budget",
    "total_cost",
    "remaining_budget",
    "over_budget",
    "total_participants",
    "total_jp",
    "compliance_realised",
    "compliance_previous_year",
    "compliance_planned",
    "non_classical_share_planned",
    "non_classical_share_realised",
    "unassessed",
    "priority_year",
)
_SHARES: Final = frozenset(k for k in SUMMARY_KEYS if k.startswith(("compliance", "non_")))
_MONEY: Final = frozenset(
    {"budget", "total_cost", "remaining_budget", "cost_per_participant", "cost_total"}
)


def _words(lang: str) -> dict[str, str]:
    """Labels in ``lang``; ValueError for a language other than ``"id"`` or ``"en"``."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    return {key: texts[lang] for key, texts in _LABELS.items()}


#: Text starting with one of these is read as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _plain(value: Any, money: bool = False) -> Any:
    """numpy scalars as Python scalars; a whole IDR amount (``money``) as int; text that a
    spreadsheet would take for a formula gets a leading apostrophe."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if money and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _cohort_table(report: NeedsReport, words: dict[str, str]) -> list[list[Any]]:
    """Header, one row per cohort and the total row (booleans kept as bool)."""
    table: list[list[Any]] = [[words[c] for c in COHORT_COLUMNS]]
    for rec in report.cohorts.itertuples(index=False):
        table.append([_plain(v, c in _MONEY) for c, v in zip(COHORT_COLUMNS, rec, strict=True)])
    total: list[Any] = [words["total"]] + [None] * (len(COHORT_COLUMNS) - 1)
    for col in ("participants", "batches", "jp_total", "cost_total"):
        total[COHORT_COLUMNS.index(col)] = _plain(report.cohorts[col].sum(), col in _MONEY)
    table.append(total)
    return table


def _summary(report: NeedsReport) -> list[tuple[str, Any]]:
    """``(key, value)`` of every summary figure, values as Python scalars."""
    return [(key, _plain(getattr(report, key), key in _MONEY)) for key in SUMMARY_KEYS]


def _csv_cell(value: Any, words: dict[str, str]) -> Any:
    if isinstance(value, bool):
        return words["yes"] if value else words["no"]
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 6))
    return value


def to_csv(report: NeedsReport, lang: str = "id") -> str:
    """The report as CSV text (comma-separated, ``\\r\\n`` lines, UTF-8 safe, ``csv`` module).

    Layout: block 1 is the cohort table: a header row (labels in ``lang``), one row per cohort
    in report order, and a last row whose first cell is ``JUMLAH`` (``id``) or ``TOTAL``
    (``en``) with the sums of participants, batches, total JP and total cost (the other cells
    empty) — equal to ``total_participants``, ``total_jp`` and ``total_cost``. Then one empty
    line. Block 2 is the summary: a header row (``Ukuran,Nilai`` / ``Figure,Value``) and one row
    per figure of :data:`SUMMARY_KEYS` (label, value). Numbers are plain (``.`` decimal
    point, no thousands separator; whole IDR amounts as integers, shares 0-1 with up to 6
    decimals); booleans ``ya``/``tidak`` or ``yes``/``no``; a missing value is empty.

    Raises ValueError for an unknown ``lang``.
    """
    words = _words(lang)
    buf = io.StringIO()
    writer = csv.writer(buf)
    for row in _cohort_table(report, words):
        writer.writerow([_csv_cell(v, words) for v in row])
    writer.writerow([])
    writer.writerow([words["figure"], words["value"]])
    for key, value in _summary(report):
        if isinstance(value, dt.date):
            value = value.isoformat()
        writer.writerow([words[key], _csv_cell(value, words)])
    return buf.getvalue()


def _heat(value: float, top: float) -> str:
    """White (0) to red (``top``) as an RRGGBB fill colour."""
    t = 0.0 if top <= 0 else min(max(value / top, 0.0), 1.0)
    other = round(255 - t * (255 - 99))
    return f"FF{other:02X}{other:02X}"


def _write_table(ws: Any, start: int, table: Sequence[Sequence[Any]], bold: Any) -> None:
    """``table`` from row ``start``, every value through :func:`_plain` (the formula guard);
    the first row bold."""
    for r, row in enumerate(table, start=start):
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=_plain(value))
    for cell in ws[start]:
        cell.font = bold


def _format_columns(ws: Any, headers: Sequence[str], first: int, last: int) -> None:
    """Number formats by column key and reasonable widths."""
    for c, key in enumerate(headers, start=1):
        fmt = "#,##0" if key in _MONEY else "0.0%" if key in _SHARES else None
        if fmt:
            for r in range(first, last + 1):
                ws.cell(row=r, column=c).number_format = fmt
        width = 40 if key in ("title", "position_title") else 16
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = width


def _gap_block(
    ws: Any, start: int, title: str, report: NeedsReport, values: np.ndarray, words: dict[str, str]
) -> int:
    """One heatmap block at row ``start``; returns the next free row."""
    from openpyxl.styles import Font, PatternFill

    bold = Font(bold=True)
    ws.cell(row=start, column=1, value=_plain(title)).font = bold
    header = [words["position_id"], words["position_title"], words["people"]]
    header += [cid for cid, _ in report.competencies]
    names = ["", words["competency_name"], None] + [name for _, name in report.competencies]
    _write_table(ws, start + 1, [header, names], bold)
    top = float(report.weighted_gap.max()) if report.weighted_gap.size else 0.0
    for i, (pid, ptitle, people) in enumerate(report.rows):
        r = start + 3 + i
        for c, value in enumerate([pid, ptitle, people], start=1):
            ws.cell(row=r, column=c, value=_plain(value))
        for k in range(len(report.competencies)):
            cell = ws.cell(row=r, column=4 + k, value=_plain(values[i, k]))
            if values.dtype.kind == "f":
                cell.number_format = "0.00"
            colour = _heat(float(report.weighted_gap[i, k]), top)
            cell.fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid")
    return start + 3 + len(report.rows) + 1


def to_xlsx(report: NeedsReport, lang: str = "id") -> bytes:
    """The report as an XLSX workbook (openpyxl); values are numbers, never formulas.

    Sheets (names in ``lang``): ``Ringkasan``/``Summary`` — label in column A, value in B, one
    row per :data:`SUMMARY_KEYS` after a header row (shares as fractions formatted as %, IDR as
    whole numbers, ``as_of`` a date, ``over_budget`` a boolean); ``Kohort``/``Cohorts`` — the
    cohort table as in :func:`to_csv` (header, cohorts, ``JUMLAH``/``TOTAL`` row with numeric
    sums); ``Kesenjangan``/``Gaps`` — two blocks, people with a gap then weighted gap, each a
    title row, a header row (position id, title, people, competency ids), a row of competency
    names and one row per position, cells filled white-to-red by weighted gap;
    ``Pegawai``/``Employees`` — :data:`EMPLOYEE_COLUMNS` with a header row.

    Raises ValueError for an unknown ``lang``.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font

    words = _words(lang)
    bold = Font(bold=True)
    wb = Workbook()
    ws = wb.active
    ws.title = words["sheet_summary"]
    rows: list[list[Any]] = [[words["figure"], words["value"]]]
    rows += [[words[key], value] for key, value in _summary(report)]
    _write_table(ws, 1, rows, bold)
    for r, (key, _) in enumerate(_summary(report), start=2):
        if key in _MONEY or key in _SHARES:
            ws.cell(row=r, column=2).number_format = "#,##0" if key in _MONEY else "0.0%"
        elif key == "as_of":
            ws.cell(row=r, column=2).number_format = "yyyy-mm-dd"
    ws.column_dimensions["A"].width = 44
    ws.column_dimensions["B"].width = 40

    ws = wb.create_sheet(words["sheet_cohorts"])
    table = _cohort_table(report, words)
    _write_table(ws, 1, table, bold)
    for cell in ws[len(table)]:
        cell.font = bold
    _format_columns(ws, COHORT_COLUMNS, 2, len(table))
    ws.freeze_panes = "A2"

    ws = wb.create_sheet(words["sheet_gaps"])
    nxt = _gap_block(ws, 1, words["gap_people"], report, report.people_with_gap, words)
    _gap_block(ws, nxt, words["gap_weighted"], report, report.weighted_gap, words)
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 40

    ws = wb.create_sheet(words["sheet_employees"])
    emp: list[list[Any]] = [[words[c] for c in EMPLOYEE_COLUMNS]]
    emp += [[_plain(v) for v in rec] for rec in report.employees.itertuples(index=False)]
    _write_table(ws, 1, emp, bold)
    _format_columns(ws, EMPLOYEE_COLUMNS, 2, len(emp))
    ws.freeze_panes = "A2"

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


__all__ = ["LANGUAGES", "SUMMARY_KEYS", "to_csv", "to_xlsx"]
