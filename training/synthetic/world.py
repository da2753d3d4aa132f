"""The reference world of the synthetic organisation: units, competencies, positions, catalogue,
priorities and sessions, plus the matrices the simulation needs.

Built once per seed (it does not depend on the number of employees, except the number of
session batches). See ``docs/synthetic-behaviour.md`` for the behaviour model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recommender import domain
from recommender.data.grades import GRADES
from recommender.data.labels import EDUCATION_LEVELS
from recommender.data.modalities import MODALITIES
from training.synthetic import catalog_data as cd

FIRST_YEAR, LAST_YEAR, PLAN_YEAR = 2019, 2025, 2026
YEARS = tuple(range(FIRST_YEAR, LAST_YEAR + 1))
EDU = EDUCATION_LEVELS
G = {g: i for i, g in enumerate(GRADES)}

#: Grade range by tier (domain.md 2.2; managerial ranges indicative [R]).
TIER_GRADES = {
    "pelaksana": ("II/a", "III/d"),
    "pemula": ("II/a", "II/a"),
    "terampil": ("II/b", "II/d"),
    "mahir": ("III/a", "III/b"),
    "penyelia": ("III/c", "III/d"),
    "ahli_pertama": ("III/a", "III/b"),
    "ahli_muda": ("III/c", "III/d"),
    "ahli_madya": ("IV/a", "IV/c"),
    "ahli_utama": ("IV/d", "IV/e"),
    "pengawas": ("III/b", "III/d"),
    "administrator": ("III/d", "IV/b"),
    "jpt_pratama": ("IV/b", "IV/d"),
    "jpt_madya": ("IV/c", "IV/e"),
    "jpt_utama": ("IV/d", "IV/e"),
}
TIER_EDU = {
    "pelaksana": "SMA",
    "pemula": "SMA",
    "terampil": "D3",
    "mahir": "D3",
    "penyelia": "D3",
    "ahli_pertama": "S1",
    "ahli_muda": "S1",
    "ahli_madya": "S1",
    "ahli_utama": "S2",
    "pengawas": "D3",
    "administrator": "S1",
    "jpt_pratama": "S1",
    "jpt_madya": "S1",
    "jpt_utama": "S1",
}
BUP = {"jpt_pratama": 60, "jpt_madya": 60, "jpt_utama": 60, "ahli_madya": 60, "ahli_utama": 65}
EXPERT = ("ahli_pertama", "ahli_muda", "ahli_madya", "ahli_utama")
SKILLED = ("terampil", "mahir", "penyelia")
REQUIRED_TRAINING = {
    "pengawas": "pkp",
    "administrator": "pka",
    "jpt_pratama": "pkn_ii",
    "jpt_madya": "pkn_i",
}
#: Technical level a JF tier requires (managerial level comes from domain.MANAGERIAL_LEVEL_BY_TIER).
TECH_LEVEL = {
    "pemula": 1,
    "jpt_utama": 3,
    "ahli_pertama": 2,
    "ahli_muda": 3,
    "ahli_madya": 4,
    "ahli_utama": 4,
    "terampil": 2,
    "mahir": 3,
    "penyelia": 3,
    "pelaksana": 2,
    "pengawas": 3,
    "administrator": 3,
    "jpt_pratama": 3,
    "jpt_madya": 3,
}


@dataclass
class World:
    """Reference tables (contract column names) plus simulation matrices.

    Shapes: ``req`` (positions x competencies) required level, 0 when not required;
    ``prog_target``/``prog_gain`` (programs x competencies); ``prio`` (years x competencies).
    """

    units: pd.DataFrame
    competencies: pd.DataFrame
    positions: pd.DataFrame
    requirements: pd.DataFrame
    programs: pd.DataFrame
    program_competencies: pd.DataFrame
    priorities: pd.DataFrame
    unit_kind: np.ndarray
    unit_weight: np.ndarray
    req: np.ndarray
    req_weight: np.ndarray
    prog_target: np.ndarray
    prog_gain: np.ndarray
    prio: np.ndarray
    prog_tiers: np.ndarray
    prog_popularity: np.ndarray
    prog_prereq: list[list[int]]
    pos_taste: np.ndarray
    unit_taste: np.ndarray

    @property
    def n_comp(self) -> int:
        """Number of competencies."""
        return len(self.competencies)


def build_units() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Units with their kind (for JF placement) and headcount weight. Returns (table, kind, w)."""
    rows = [
        (
            "KEMNAKER",
            "Kementerian Ketenagakerjaan",
            None,
            "kementerian",
            "31",
            "DKI Jakarta",
            "root",
            0.2,
        )
    ]
    for code, name, kind, children in cd.ECHELON_I:
        rows.append((code, name, "KEMNAKER", "eselon_i", "31", "DKI Jakarta", kind, 0.3))
        for j, child in enumerate(children, 1):
            child_kind = "ppsdm" if "Pengembangan SDM" in child else kind
            rows.append(
                (f"{code}-{j:02d}", child, code, "eselon_ii", "31", "DKI Jakarta", child_kind, 1.0)
            )
    for j, (name, pcode, prov, parent, kind, big) in enumerate(cd.UPT, 1):
        rows.append((f"UPT-{j:02d}", name, parent, "upt", pcode, prov, kind, 1.6 if big else 0.9))
    for pcode, prov in cd.PROVINCES:
        rows.append(
            (
                f"PROV-{pcode}",
                f"Disnakertrans Provinsi {prov}",
                None,
                "dinas_provinsi",
                pcode,
                prov,
                "prov",
                1.1,
            )
        )
    df = pd.DataFrame(
        rows,
        columns=[
            "unit_id",
            "name",
            "parent_id",
            "level",
            "province_code",
            "province",
            "_kind",
            "_w",
        ],
    )
    weight = df["_w"].to_numpy(float)
    return df.drop(columns=["_kind", "_w"]), df["_kind"].to_numpy(), weight / weight.sum()


def build_competencies() -> tuple[pd.DataFrame, dict[str, str]]:
    """Competency dictionary; also returns a map competency name -> priority theme."""
    rows, theme = [], {}
    for i, (name, en) in enumerate(cd.MANAGERIAL, 1):
        rows.append((f"MK{i:02d}", name, en, "manajerial", "manajerial"))
        theme[name] = "RB"
    rows.append(
        (
            "SK01",
            cd.SOCIOCULTURAL[0][0],
            cd.SOCIOCULTURAL[0][1],
            "sosial_kultural",
            "sosial_kultural",
        )
    )
    theme[cd.SOCIOCULTURAL[0][0]] = "INKLUSI"
    n = 0
    for cluster, cluster_theme, names in cd.TECHNICAL:
        for name in names:
            n += 1
            rows.append((f"TK{n:03d}", name, None, "teknis", cluster))
            theme[name] = cluster_theme
    theme.update(
        {
            "Pelindungan Pekerja Migran": "PMI",
            "Jaminan Sosial Tenaga Kerja": "JAMSOS",
            "Norma Jaminan Sosial": "JAMSOS",
            "Peningkatan Produktivitas": "PRODUKTIVITAS",
        }
    )
    cols = ["competency_id", "name", "name_en", "type", "cluster"]
    return pd.DataFrame(rows, columns=cols), theme


KIND_CLUSTERS = {
    "wasnaker": ("pengawasan",),
    "k3": ("pengawasan",),
    "phi": ("hubungan_industrial",),
    "penta": ("penempatan",),
    "lavotas": ("vokasi",),
    "upt": ("vokasi",),
    "renbang": ("perencanaan",),
    "itjen": ("manajemen",),
    "central": ("manajemen", "digital"),
    "ppsdm": ("vokasi", "manajemen"),
    "root": ("manajemen",),
    "prov": ("pengawasan", "hubungan_industrial", "penempatan"),
}
HEAD_TITLES = {"eselon_i": "jpt_madya"}


def _position_row(
    pid: str, title: str, tier: str, unit: str | None, jf: str | None, formasi: int = 0
) -> dict[str, object]:
    family = (
        "jpt"
        if tier.startswith("jpt")
        else tier
        if tier in ("administrator", "pengawas")
        else "pelaksana"
        if tier == "pelaksana"
        else "fungsional"
    )
    lo, hi = TIER_GRADES[tier]
    return {
        "position_id": pid,
        "title": title,
        "family": family,
        "category": "manajerial"
        if family in ("jpt", "administrator", "pengawas")
        else "nonmanajerial",
        "tier": tier,
        "jf_code": jf,
        "unit_id": unit,
        "min_grade": lo,
        "max_grade": hi,
        "min_education": TIER_EDU[tier],
        "required_training": REQUIRED_TRAINING.get(tier),
        "formasi": formasi,
        "retirement_age": BUP.get(tier, 58),
    }


def _managerial_posts(unit: pd.Series, kind: str) -> list[dict[str, object]]:
    uid, name, level = unit["unit_id"], unit["name"], unit["level"]
    short = name.replace("Direktorat ", "").replace("Disnakertrans ", "Dinas ")
    if level == "kementerian":
        return []
    if level == "eselon_i":
        return [_position_row(f"M-{uid}-1", f"Pimpinan {name}", "jpt_madya", uid, None, 1)]
    big = level in ("eselon_ii", "dinas_provinsi") or "BBPVP" in name
    head = "jpt_pratama" if big else "administrator"
    head_title = f"Direktur {short}" if name.startswith("Direktorat") else f"Kepala {name}"
    rows = [_position_row(f"M-{uid}-1", head_title, head, uid, None, 1)]
    if big:
        rows.append(
            _position_row(
                f"M-{uid}-2",
                f"Kepala Bagian/Bidang pada {short}",
                "administrator",
                uid,
                None,
                2 if level == "dinas_provinsi" else 1,
            )
        )
    rows.append(
        _position_row(
            f"M-{uid}-3",
            f"Kepala Subbagian/Seksi pada {short}",
            "pengawas",
            uid,
            None,
            2 if level == "dinas_provinsi" else 1,
        )
    )
    return rows


def build_positions(units: pd.DataFrame, kinds: np.ndarray) -> pd.DataFrame:
    """Position catalogue: managerial posts per unit, JF tiers, pelaksana titles."""
    rows: list[dict[str, object]] = []
    for i, unit in units.iterrows():
        rows.extend(_managerial_posts(unit, kinds[i]))
    for code, title, _comps, _kinds, skilled in cd.JF:
        tiers = EXPERT + (SKILLED if skilled else ())
        for tier in tiers:
            label = tier.replace("_", " ").title()
            rows.append(_position_row(f"JF-{code}-{tier}", f"{title} {label}", tier, None, code))
    for j, (title, _comps) in enumerate(cd.PELAKSANA, 1):
        rows.append(_position_row(f"PL-{j:02d}", title, "pelaksana", None, None))
    return pd.DataFrame(rows)


def _technical_comps(
    pos: pd.Series,
    unit_kind: dict[str, str],
    by_cluster: dict[str, list[str]],
    jf_comps: dict[str, tuple[str, ...]],
) -> list[str]:
    if isinstance(pos["jf_code"], str):
        return list(jf_comps[str(pos["jf_code"])])
    if pos["family"] == "pelaksana":
        return list(dict(cd.PELAKSANA)[str(pos["title"])])
    clusters = KIND_CLUSTERS[unit_kind[str(pos["unit_id"])]]
    names = [n for c in clusters for n in by_cluster[c][:5]]
    return [*names[:5], "Akuntabilitas Kinerja (SAKIP)"]


def build_requirements(
    positions: pd.DataFrame, comps: pd.DataFrame, units: pd.DataFrame, kinds: np.ndarray
) -> pd.DataFrame:
    """Competency standard per position (managerial + socio-cultural + 2-8 technical)."""
    name_to_id = dict(zip(comps["name"], comps["competency_id"], strict=True))
    by_cluster = comps[comps["type"] == "teknis"].groupby("cluster")["name"].apply(list).to_dict()
    jf_comps = {code: names for code, _t, names, _k, _s in cd.JF}
    unit_kind = dict(zip(units["unit_id"], kinds, strict=True))
    soft = comps.loc[comps["type"] != "teknis", "competency_id"]
    rows = []
    for _, pos in positions.iterrows():
        tier = str(pos["tier"])
        level = domain.MANAGERIAL_LEVEL_BY_TIER[tier]
        rows += [(pos["position_id"], cid, level, 1.0) for cid in soft]
        tech = _technical_comps(pos, unit_kind, by_cluster, jf_comps)
        for k, name in enumerate(tech):
            bump = 1 if k < 2 and tier in ("ahli_madya", "ahli_utama", "penyelia") else 0
            rows.append(
                (
                    pos["position_id"],
                    name_to_id[name],
                    min(5, TECH_LEVEL[tier] + bump),
                    1.5 if k < 3 else 1.0,
                )
            )
    cols = ["position_id", "competency_id", "required_level", "weight"]
    return pd.DataFrame(rows, columns=cols)


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


#: Priority themes and weights per year [A]: inspection and IR first, digital after 2020,
#: vocational training and migrant protection after 2024 (Asta Cita).
THEME_WEIGHTS = {
    2019: {"PENGAWASAN_K3": 0.9, "HI": 0.7, "VOKASI": 0.8, "RB": 0.6, "PERENCANAAN": 0.4},
    2020: {"PENGAWASAN_K3": 0.8, "DIGITAL": 0.9, "VOKASI": 0.7, "RB": 0.6, "JAMSOS": 0.5},
    2021: {"DIGITAL": 1.0, "VOKASI": 0.8, "PENGAWASAN_K3": 0.6, "RB": 0.7, "PENEMPATAN": 0.5},
    2022: {"DIGITAL": 0.8, "PENEMPATAN": 0.8, "VOKASI": 0.7, "HI": 0.6, "PRODUKTIVITAS": 0.5},
    2023: {"VOKASI": 0.9, "PENEMPATAN": 0.7, "DIGITAL": 0.7, "RB": 0.5, "PMI": 0.5},
    2024: {"VOKASI": 1.0, "PMI": 0.8, "INKLUSI": 0.6, "HI": 0.6, "DIGITAL": 0.6},
    2025: {"VOKASI": 1.0, "PENEMPATAN": 0.8, "INKLUSI": 0.7, "PMI": 0.7, "JAMSOS": 0.6},
    2026: {"VOKASI": 1.0, "PENGAWASAN_K3": 0.8, "DIGITAL": 0.7, "PMI": 0.6, "INKLUSI": 0.6},
}


def build_priorities(comps: pd.DataFrame, theme: dict[str, str]) -> pd.DataFrame:
    """Priorities table: (year, theme, competency, weight) for every competency of each theme."""
    rows = []
    for year, weights in THEME_WEIGHTS.items():
        for name, cid in zip(comps["name"], comps["competency_id"], strict=True):
            if theme[name] in weights:
                rows.append((year, theme[name], cid, weights[theme[name]]))
    return pd.DataFrame(rows, columns=["year", "theme", "competency_id", "weight"])


def _matrix(
    df: pd.DataFrame, rows: pd.Index, cols: pd.Index, row: str, col: str, value: str
) -> np.ndarray:
    out = np.zeros((len(rows), len(cols)), dtype=np.float32)
    out[rows.get_indexer(df[row]), cols.get_indexer(df[col])] = df[value].to_numpy(np.float32)
    return out


def build_world(seed: int) -> World:
    """Build the reference world for ``seed`` (deterministic)."""
    rng = np.random.default_rng([seed, 1])
    units, kinds, weight = build_units()
    comps, theme = build_competencies()
    positions = build_positions(units, kinds)
    reqs = build_requirements(positions, comps, units, kinds)
    programs, pc = build_programs(rng, comps, theme)
    priorities = build_priorities(comps, theme)
    cidx = pd.Index(comps["competency_id"])
    pidx, gidx = pd.Index(positions["position_id"]), pd.Index(programs["program_id"])
    years = pd.Index(range(FIRST_YEAR, PLAN_YEAR + 1))
    tiers = pd.Index(domain.TIERS)
    prog_tiers = np.zeros((len(programs), len(tiers)), dtype=bool)
    for i, tlist in enumerate(programs["target_tiers"]):
        prog_tiers[i, tiers.get_indexer(tlist.split(";"))] = True
    prereq = [
        list(gidx.get_indexer(p.split(";"))) if isinstance(p, str) else []
        for p in programs["prerequisites"]
    ]
    return World(
        units=units,
        competencies=comps,
        positions=positions,
        requirements=reqs,
        programs=programs,
        program_competencies=pc,
        priorities=priorities,
        unit_kind=kinds,
        unit_weight=weight,
        req=_matrix(reqs, pidx, cidx, "position_id", "competency_id", "required_level"),
        req_weight=_matrix(reqs, pidx, cidx, "position_id", "competency_id", "weight"),
        prog_target=_matrix(pc, gidx, cidx, "program_id", "competency_id", "target_level"),
        prog_gain=_matrix(pc, gidx, cidx, "program_id", "competency_id", "expected_gain"),
        prio=_matrix(priorities, years, cidx, "year", "competency_id", "weight"),
        prog_tiers=prog_tiers,
        prog_popularity=rng.lognormal(0.0, 0.8, len(programs)).astype(np.float32),
        prog_prereq=prereq,
        # habits of a position and of a unit (what "people like me" take): co-enrolment structure
        pos_taste=rng.normal(0, 0.7, (len(positions), len(programs))).astype(np.float32),
        unit_taste=rng.normal(0, 0.4, (len(units), len(programs))).astype(np.float32),
    )
