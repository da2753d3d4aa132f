"""Words of the development plan, in Indonesian (``"id"``, the default) and English (``"en"``).

Every sentence a plan shows — item reasons, problems, notes — is built here from a template
key and values, so both languages say the same thing. Numbers follow the language: Indonesian
writes ``Rp 5.000.000`` and level ``2,5``; English ``Rp 5,000,000`` and ``2.5``.
"""

from __future__ import annotations

from typing import Final

from recommender.data.modalities import MODALITIES

LANGUAGES: Final = ("id", "en")

TEXTS: Final[dict[str, dict[str, str]]] = {
    # --- reasons of an item ---------------------------------------------------------------
    "raise": {
        "id": "menaikkan {competency} dari {frm} ke {to} ({needs})",
        "en": "raises {competency} from {frm} to {to} ({needs})",
    },
    "needs_current": {
        "id": "jabatan saat ini memerlukan {level}",
        "en": "current position needs {level}",
    },
    "needs_target": {
        "id": "jabatan berikutnya memerlukan {level}",
        "en": "likely next position needs {level}",
    },
    "met": {"id": "terpenuhi", "en": "now met"},
    "priority": {
        "id": "selaras dengan prioritas organisasi{year}",
        "en": "aligned with the organisation's priorities{year}",
    },
    "priority_year": {"id": " tahun {year}", "en": " for {year}"},
    "adds_jp": {
        "id": "menambah {jp} JP menuju minimal {min_jp} JP setahun",
        "en": "adds {jp} JP toward the minimum of {min_jp} JP a year",
    },
    "non_classical": {
        "id": "jalur nonklasikal ({modality})",
        "en": "non-classical route ({modality})",
    },
    "anytime": {
        "id": "dapat diikuti kapan saja tanpa angkatan",
        "en": "can be taken any time, no session needed",
    },
    "ranked": {
        "id": "peringkat ke-{rank} menurut pemeringkat program",
        "en": "ranked {rank} by the programme ranker",
    },
    # --- problems (the plan is empty) -----------------------------------------------------
    "nothing_eligible": {
        "id": "Katalog tidak memiliki program yang dapat diikuti pegawai ini{year}.",
        "en": "The catalogue has no programme this person can take{year}.",
    },
    "in_year": {"id": " pada tahun {year}", "en": " in {year}"},
    "no_sessions": {
        "id": (
            "Ada {n} program yang dapat diikuti, tetapi tidak satu pun memiliki angkatan "
            "dengan kursi tersisa{year} ({without} tanpa angkatan, {full} dengan angkatan penuh)."
        ),
        "en": (
            "{n} programme(s) are open to this person, but none has a session with seats "
            "left{year} ({without} without a session, {full} with full sessions only)."
        ),
    },
    "jp_unreachable": {
        "id": (
            "Bahkan tanpa batas anggaran, angkatan yang tersedia hanya mencapai {max_jp} JP "
            "(paling banyak {max_items} program, tanpa jadwal yang bertumpuk); "
            "minimal {min_jp} JP tidak tercapai."
        ),
        "en": (
            "Even without a budget limit, the available sessions reach at most {max_jp} JP "
            "(at most {max_items} programmes, no overlapping dates); "
            "the minimum of {min_jp} JP cannot be met."
        ),
    },
    "budget_short": {
        "id": (
            "Anggaran {budget} tidak cukup untuk mencapai {min_jp} JP: cara termurah adalah "
            "{items} ({jp} JP) dengan biaya {cost}."
        ),
        "en": (
            "The budget of {budget} cannot reach {min_jp} JP: the cheapest way to {min_jp} JP "
            "is {items} ({jp} JP) at {cost}."
        ),
    },
    "solver_failed": {
        "id": "Tidak ditemukan rencana dalam batas waktu {seconds} detik ({detail}).",
        "en": "No plan was found within the time limit of {seconds} s ({detail}).",
    },
    # --- notes (the plan stands, with a remark) -------------------------------------------
    "nc_dropped": {
        "id": (
            "Tidak ada rencana berisi program nonklasikal yang memenuhi {min_jp} JP dalam "
            "anggaran dan jadwal; rencana ini hanya berisi pelatihan klasikal."
        ),
        "en": (
            "No plan with a non-classical programme reaches {min_jp} JP within the budget and "
            "the calendar; this plan has classical training only."
        ),
    },
    "nc_none": {
        "id": (
            "Tidak ada program nonklasikal yang tersedia (dengan kursi dan dalam anggaran), "
            "sehingga rencana ini hanya berisi pelatihan klasikal."
        ),
        "en": (
            "No non-classical programme is available (with seats, within the budget), "
            "so this plan has classical training only."
        ),
    },
    "unassessed": {
        "id": "Kompetensi yang belum pernah diukur tidak diproyeksikan: {competencies}.",
        "en": "Competencies never assessed are not projected: {competencies}.",
    },
    "no_gap_closed": {
        "id": (
            "Tidak ada kesenjangan kompetensi terukur yang dapat ditutup oleh program yang "
            "tersedia."
        ),
        "en": "No measured competency gap can be closed by the available programmes.",
    },
    "built_for_jp": {
        "id": " Rencana disusun untuk memenuhi {min_jp} JP.",
        "en": " The plan is built to meet {min_jp} JP.",
    },
    "time_limit": {
        "id": "Pencarian berhenti pada batas waktu; rencana ini belum tentu yang terbaik.",
        "en": "The search stopped at its time limit; this plan may not be the best one.",
    },
}


def text(key: str, lang: str, **values: object) -> str:
    """The sentence ``key`` in ``lang`` with ``values`` filled in (KeyError for an unknown key)."""
    return TEXTS[key][lang].format(**values)


def money(amount: float, lang: str) -> str:
    """``Rp 5.000.000`` (id) or ``Rp 5,000,000`` (en); whole rupiah."""
    s = f"{amount:,.0f}"
    return "Rp " + (s.replace(",", ".") if lang == "id" else s)


def level(x: float, lang: str) -> str:
    """A level as people read it: ``3``, ``2,5`` (id) / ``2.5`` (en), at most two decimals."""
    s = f"{round(x, 2):g}"
    return s.replace(".", ",") if lang == "id" else s


def ordinal(n: int, lang: str) -> str:
    """``3`` for Indonesian (used as *ke-3*), ``3rd`` in English."""
    if lang == "id":
        return str(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def modality_label(modality: str, lang: str) -> str:
    """Readable modality name (``E-Learning``, ``Coaching``); the code when unknown."""
    m = MODALITIES.get(modality)
    if m is None:
        return modality
    return m.label_id if lang == "id" else m.label_en.lower()


def sentence(parts: list[str]) -> str:
    """Parts joined by ``"; "`` with the first letter capitalised."""
    s = "; ".join(p for p in parts if p)
    return s[:1].upper() + s[1:]
