"""The synthetic programme catalogue (about 400 programmes) and the competencies each develops:
leadership training (LAN), functional (JF) basic and level training, topic programmes per
competency in several modalities, and workplace learning per technical cluster.

Deterministic for a given random generator; see ``docs/synthetic-behaviour.md``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender import domain
from recommender.data.modalities import MODALITIES
from training.synthetic import catalog_data as cd

TIER_BY_LEVEL = {
    lvl: tuple(t for t, v in domain.TIER_LEVEL.items() if v == lvl) for lvl in range(1, 8)
}


def _tiers_between(lo: int, hi: int) -> str:
    return ";".join(t for lvl in range(lo, hi + 1) for t in TIER_BY_LEVEL.get(lvl, ()))


#: Technical programme templates: (title pattern, modality, target level, gain, JP range, tiers).
TECH_TEMPLATES = (
    ("Pelatihan Teknis {c} Tingkat Dasar", "teknis", 2, (0.6, 1.0), (24, 60), (1, 3)),
    ("Pelatihan Teknis {c} Tingkat Lanjut", "teknis", 4, (0.6, 1.0), (40, 120), (3, 5)),
    ("Bimbingan Teknis {c}", "bimtek", 3, (0.4, 0.8), (8, 40), (1, 4)),
    ("E-Learning {c}", "e_learning", 3, (0.3, 0.7), (4, 20), (1, 5)),
    ("Workshop {c}", "workshop", 3, (0.3, 0.5), (8, 24), (1, 5)),
    ("Seminar {c}", "seminar", 3, (0.2, 0.4), (2, 8), (1, 6)),
    ("Pelatihan Jarak Jauh {c}", "pjj", 3, (0.4, 0.8), (16, 48), (1, 4)),
    ("Komunitas Belajar {c}", "komunitas_belajar", 4, (0.2, 0.5), (4, 16), (1, 6)),
)
MANAGERIAL_TEMPLATES = (
    ("Pelatihan Manajerial {c}", "manajerial", 3, (0.5, 0.8), (24, 40), (2, 5)),
    ("E-Learning {c}", "e_learning", 2, (0.3, 0.6), (4, 12), (1, 4)),
    ("Coaching {c}", "coaching", 4, (0.4, 0.8), (4, 12), (3, 6)),
    ("Mentoring {c}", "mentoring", 3, (0.4, 0.7), (4, 12), (1, 4)),
)
LEADERSHIP = (  # title, modality, JP, days, tiers, target managerial level, cost (million IDR)
    ("Pelatihan Dasar CPNS Golongan II", "latsar", 290, 51, "pelaksana;terampil", 1, 12),
    ("Pelatihan Dasar CPNS Golongan III", "latsar", 290, 51, "pelaksana;ahli_pertama", 1, 14),
    ("Pelatihan Kepemimpinan Pengawas", "pkp", 830, 96, "pelaksana;pengawas;ahli_muda", 2, 28),
    (
        "Pelatihan Kepemimpinan Administrator",
        "pka",
        908,
        105,
        "pengawas;administrator;ahli_madya",
        3,
        38,
    ),
    (
        "Pelatihan Kepemimpinan Nasional Tingkat II",
        "pkn_ii",
        900,
        120,
        "administrator;jpt_pratama;ahli_utama",
        4,
        65,
    ),
    (
        "Pelatihan Kepemimpinan Nasional Tingkat I",
        "pkn_i",
        900,
        120,
        "jpt_pratama;jpt_madya",
        5,
        90,
    ),
)
CAPACITY = {
    "e_learning": 500,
    "seminar": 120,
    "komunitas_belajar": 40,
    "coaching": 8,
    "mentoring": 10,
    "detasering": 5,
    "magang": 10,
    "patok_banding": 25,
    "pjj": 60,
    "belajar_mandiri": 300,
    "bimbingan_kerja": 15,
    "pertukaran": 5,
}
PER_JP_COST = {
    "e_learning": 15_000,
    "belajar_mandiri": 5_000,
    "komunitas_belajar": 10_000,
    "seminar": 120_000,
    "coaching": 250_000,
    "mentoring": 150_000,
    "pjj": 90_000,
}


def _program(
    rng: np.random.Generator,
    pid: str,
    title: str,
    modality: str,
    jp: int,
    tiers: str,
    provider: str,
    accredited_p: float,
) -> dict[str, object]:
    classical = MODALITIES[modality].classical
    per_jp = PER_JP_COST.get(modality, 250_000 if classical else 120_000)
    cost = int(round(jp * per_jp * rng.uniform(0.7, 1.3), -4))
    accredited = bool(rng.random() < accredited_p)
    start = int(rng.choice([2012, 2015, 2018, 2018, 2018, 2020, 2021, 2022, 2023]))
    end = int(rng.choice([2021, 2022, 2023])) if rng.random() < 0.12 else None
    if end is not None and end < start:
        end = None
    if modality in ("e_learning", "pjj") and start < 2020 and rng.random() < 0.6:
        start = int(rng.choice([2020, 2021]))  # the e-learning push after 2020
    return {
        "program_id": pid,
        "title": title,
        "description": f"{title} ({MODALITIES[modality].label_id})",
        "modality": modality,
        "classical": classical,
        "jp": jp,
        "duration_days": max(1, int(np.ceil(jp / (8 if classical else 3)))),
        "cost_idr": cost,
        "provider": provider,
        "lan_accredited": accredited,
        "accreditation_grade": str(rng.choice(["A", "A", "B", "C"])) if accredited else None,
        "target_tiers": tiers,
        "prerequisites": None,
        "capacity_per_batch": CAPACITY.get(modality, int(rng.integers(20, 41))),
        "priority_tags": None,
        "active_from": start,
        "active_to": end,
    }


def _leadership(rng: np.random.Generator, soft: list[str]) -> tuple[list[dict], list[tuple]]:
    progs, links = [], []
    for k, (title, mod, jp, days, tiers, level, cost_m) in enumerate(LEADERSHIP, 1):
        p = _program(rng, f"PL{k:03d}", title, mod, jp, tiers, "LAN", 1.0)
        p.update(
            duration_days=days,
            cost_idr=cost_m * 1_000_000,
            active_from=2012,
            active_to=None,
            accreditation_grade="A",
            capacity_per_batch=30,
        )
        progs.append(p)
        links += [(p["program_id"], cid, level, 0.5) for cid in soft]
    return progs, links


def _functional(rng: np.random.Generator, name_to_id: dict[str, str]) -> tuple[list, list]:
    progs, links = [], []
    for code, title, comps, _kinds, skilled in cd.JF:
        ids = [name_to_id[c] for c in comps]
        basic = _program(
            rng,
            f"PF-{code}-D",
            f"Pelatihan Dasar Fungsional {title}",
            "fungsional_dasar",
            int(rng.integers(80, 400)),
            "pelaksana;ahli_pertama" + (";terampil" if skilled else ""),
            "PPSDM Kemnaker",
            1.0,
        )
        basic.update(active_from=2012, active_to=None, accreditation_grade="A")
        progs.append(basic)
        links += [(basic["program_id"], cid, 2, 0.8) for cid in ids]
        for tier, level in (("ahli_muda", 3), ("ahli_madya", 4)):
            prev = "ahli_pertama" if tier == "ahli_muda" else "ahli_muda"
            p = _program(
                rng,
                f"PF-{code}-{tier[5:8].upper()}",
                f"Pelatihan Penjenjangan {title} {tier.replace('_', ' ').title()}",
                "fungsional_penjenjangan",
                int(rng.integers(60, 160)),
                f"{prev};{tier}",
                "PPSDM Kemnaker",
                0.9,
            )
            p["prerequisites"] = basic["program_id"]
            progs.append(p)
            links += [(p["program_id"], cid, level, 0.7) for cid in ids]
    return progs, links


def _topic_programs(
    rng: np.random.Generator, comps: pd.DataFrame, theme: dict[str, str]
) -> tuple[list, list]:
    progs, links = [], []
    n = 0
    for _, comp in comps.iterrows():
        templates = TECH_TEMPLATES if comp["type"] == "teknis" else MANAGERIAL_TEMPLATES
        k = len(templates) if comp["type"] != "teknis" else int(rng.integers(4, 7))
        chosen = sorted(rng.choice(len(templates), size=k, replace=False))
        cluster_ids = comps.loc[comps["cluster"] == comp["cluster"], "competency_id"].tolist()
        basic_id = None
        for t in chosen:
            pattern, mod, target, gain, jp, (lo, hi) = templates[t]
            n += 1
            kind = "digital" if mod in ("e_learning", "pjj") else "technical"
            p = _program(
                rng,
                f"PT{n:03d}",
                pattern.format(c=comp["name"]),
                mod,
                int(rng.integers(jp[0], jp[1] + 1)),
                _tiers_between(lo, hi),
                str(rng.choice(cd.PROVIDERS[kind])),
                0.7 if MODALITIES[mod].classical else 0.35,
            )
            p["priority_tags"] = theme[comp["name"]]
            if "Tingkat Dasar" in pattern:
                basic_id = p["program_id"]
            if "Tingkat Lanjut" in pattern and basic_id is not None:
                p["prerequisites"] = basic_id
            progs.append(p)
            links.append(
                (
                    p["program_id"],
                    comp["competency_id"],
                    target,
                    round(float(rng.uniform(*gain)), 2),
                )
            )
            others = [c for c in cluster_ids if c != comp["competency_id"]]
            for other in rng.choice(
                others, size=min(len(others), int(rng.integers(0, 3))), replace=False
            ):
                links.append(
                    (p["program_id"], other, target, round(float(rng.uniform(0.1, 0.3)), 2))
                )
    return progs, links


WORKPLACE = (  # title pattern, modality, JP, target level, tiers
    ("Detasering pada {u}", "detasering", 20, 4, (2, 5)),
    ("Magang pada {u}", "magang", 20, 3, (1, 3)),
    ("Patok Banding Praktik Baik {c}", "patok_banding", 10, 3, (3, 6)),
    ("Belajar Mandiri {c}", "belajar_mandiri", 6, 2, (1, 4)),
    ("Bimbingan di Tempat Kerja {c}", "bimbingan_kerja", 8, 3, (1, 3)),
)


def _workplace(
    rng: np.random.Generator, comps: pd.DataFrame, theme: dict[str, str]
) -> tuple[list, list]:
    progs, links = [], []
    tech = comps[comps["type"] == "teknis"]
    for cluster, group in tech.groupby("cluster", sort=True):
        ids = group["competency_id"].tolist()
        for k, (pattern, mod, jp, target, (lo, hi)) in enumerate(WORKPLACE, 1):
            title = pattern.format(
                u=f"Unit Unggulan Bidang {str(cluster).replace('_', ' ').title()}",
                c=str(cluster).replace("_", " ").title(),
            )
            p = _program(
                rng,
                f"PW-{str(cluster)[:4].upper()}{k}",
                title,
                mod,
                jp,
                _tiers_between(lo, hi),
                str(rng.choice(cd.PROVIDERS["workplace"])),
                0.1,
            )
            p["priority_tags"] = theme[group["name"].iloc[0]]
            progs.append(p)
            for cid in rng.choice(ids, size=min(3, len(ids)), replace=False):
                links.append((p["program_id"], cid, target, round(float(rng.uniform(0.3, 0.7)), 2)))
    return progs, links


def build_programs(
    rng: np.random.Generator, comps: pd.DataFrame, theme: dict[str, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The catalogue (about 400 programmes) and the competencies each develops."""
    name_to_id = dict(zip(comps["name"], comps["competency_id"], strict=True))
    soft = comps.loc[comps["type"] != "teknis", "competency_id"].tolist()
    progs, links = [], []
    for part in (
        _leadership(rng, soft),
        _functional(rng, name_to_id),
        _topic_programs(rng, comps, theme),
        _workplace(rng, comps, theme),
    ):
        progs += part[0]
        links += part[1]
    cols = ["program_id", "competency_id", "target_level", "expected_gain"]
    pc = pd.DataFrame(links, columns=cols).drop_duplicates(["program_id", "competency_id"])
    return pd.DataFrame(progs), pc.reset_index(drop=True)
