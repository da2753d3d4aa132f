"""Reason codes and readable reasons (Indonesian by default, English) for recommended programmes.

Reasons are read from the candidate's own features (the same ones the ranker scored), so they
never claim what the data does not show. Codes, in the order they are offered:

============  ======================================================================
GAP_CURRENT   closes a gap of the current position's competency standard (names the
              competency with the largest weighted gap the programme addresses)
GAP_TARGET    closes a gap of the likely next position
PRIORITY      aligned with the organisation's priorities of the year
PEERS         often taken by people in the same position (last two years)
SIMILAR       similar to programmes the person took before (co-enrolment)
NON_CLASSIC   a non-classical route (learning at work, e-learning, coaching...)
ACCREDITED    LAN-accredited programme
============  ======================================================================
"""

from __future__ import annotations

from collections.abc import Mapping

Language = str  # "id" or "en"

TEXTS: dict[str, dict[str, str]] = {
    "GAP_CURRENT": {
        "id": "Menutup kesenjangan kompetensi jabatan saat ini: {competency}",
        "en": "Closes a competency gap of your current position: {competency}",
    },
    "GAP_TARGET": {
        "id": "Menyiapkan jabatan berikutnya: menutup kesenjangan {competency}",
        "en": "Prepares your likely next position: closes the gap in {competency}",
    },
    "PRIORITY": {
        "id": "Selaras dengan prioritas organisasi tahun {year}",
        "en": "Aligned with the organisation's priorities for {year}",
    },
    "PEERS": {
        "id": "Banyak diikuti pegawai pada jabatan yang sama",
        "en": "Often taken by people in the same position",
    },
    "SIMILAR": {
        "id": "Serupa dengan pelatihan yang pernah Anda ikuti",
        "en": "Similar to programmes you took before",
    },
    "NON_CLASSIC": {
        "id": "Jalur nonklasikal: belajar sambil bekerja",
        "en": "Non-classical route: learning while working",
    },
    "ACCREDITED": {
        "id": "Program terakreditasi LAN",
        "en": "LAN-accredited programme",
    },
}
PEERS_MIN_SHARE = 0.05
#: the candidate features the codes are read from
REASON_FEATURES = (
    "gap_coverage",
    "target_gap_coverage",
    "priority_alignment",
    "pop_position",
    "item_knn",
    "classical",
    "accredited",
)


def language(accept_language: str | None) -> Language:
    """'en' when the Accept-Language header prefers English over Indonesian, else 'id'."""
    if not accept_language:
        return "id"
    best, best_q = "id", -1.0
    for part in accept_language.split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        code = tag.strip().lower()[:2]
        if code in ("id", "en") and weight > best_q:
            best, best_q = code, weight
    return best


def codes_for(row: Mapping[str, float]) -> list[str]:
    """Reason codes a candidate row supports, in the order of the module table."""
    checks = (
        ("GAP_CURRENT", row["gap_coverage"] > 0),
        ("GAP_TARGET", row["target_gap_coverage"] > 0),
        ("PRIORITY", row["priority_alignment"] > 0),
        ("PEERS", row["pop_position"] >= PEERS_MIN_SHARE),
        ("SIMILAR", row["item_knn"] > 0),
        ("NON_CLASSIC", row["classical"] == 0),
        ("ACCREDITED", row["accredited"] == 1),
    )
    return [code for code, ok in checks if bool(ok)]


def render(
    codes: list[str], lang: Language, competency: str = "", target: str = "", year: int = 0
) -> list[str]:
    """Readable sentences for ``codes`` in ``lang`` ('id' or 'en')."""
    out = []
    for code in codes:
        text = TEXTS[code]["en" if lang == "en" else "id"]
        out.append(
            text.format(competency=target if code == "GAP_TARGET" else competency, year=year)
        )
    return out
