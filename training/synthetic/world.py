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
from training.synthetic import catalog_data as cd
from training.synthetic import org_data
from training.synthetic.programs import build_programs

FIRST_YEAR, LAST_YEAR, PLAN_YEAR = 2019, 2025, 2026
YEARS = tuple(range(FIRST_YEAR, LAST_YEAR + 1))
EDU = EDUCATION_LEVELS
G = {g: i for i, g in enumerate(GRADES)}

#: Grade range by tier (domain.md 2.2; managerial ranges indicative [R]).
TIER_GRADES = {
    "pelaksana": ("I/a", "III/d"),
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
    for code, name, kind, children in org_data.ECHELON_I:
        rows.append((code, name, "KEMNAKER", "eselon_i", "31", "DKI Jakarta", kind, 0.3))
        for j, child in enumerate(children, 1):
            child_kind = "ppsdm" if "Pengembangan SDM" in child else kind
            rows.append(
                (f"{code}-{j:02d}", child, code, "eselon_ii", "31", "DKI Jakarta", child_kind, 1.0)
            )
    for j, (name, pcode, prov, parent, kind, big) in enumerate(org_data.UPT, 1):
        rows.append((f"UPT-{j:02d}", name, parent, "upt", pcode, prov, kind, 1.6 if big else 0.9))
    for pcode, prov in org_data.PROVINCES:
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


#: Posts under a unit's head grow with the unit: formasi per expected employee of the unit, so
#: managerial staff stay near the national structural share (domain.md 2.1: 11 %, Dec 2021)
#: whatever the organisation's size [A].
MANAGERIAL_RATE = {"administrator": 0.02, "pengawas": 0.05}


def scale_managerial(world: World, counts: np.ndarray) -> None:
    """Set the formasi of each unit's administrator / pengawas posts (not the head's) to
    :data:`MANAGERIAL_RATE` x the unit's expected employees ``counts`` (one per unit, in the
    order of ``world.units``), rounded; at least one pengawas post per unit, a small unit may
    have no administrator post; in place."""
    pos = world.positions
    row = pd.Index(world.units["unit_id"]).get_indexer(pos["unit_id"].fillna(""))
    rate = pos["tier"].map(MANAGERIAL_RATE).to_numpy(float)
    scale = (
        (pos["category"] == "manajerial").to_numpy()
        & ~pos["position_id"].str.endswith("-1").to_numpy()
        & ~np.isnan(rate)
        & (row >= 0)
    )
    want = np.round(rate[scale] * counts[row[scale]])
    floor = (pos.loc[scale, "tier"] == "pengawas").to_numpy(int)  # every unit keeps one pengawas
    pos.loc[scale, "formasi"] = np.maximum(want, floor).astype(int)


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
