"""The programme catalogue and the position standards as matrices, built once from clean tables.

Shapes: ``gain``/``target`` are programmes x competencies (expected gain, level the programme
brings people to; 0 where it does not touch the competency); ``req``/``req_weight`` are
positions x competencies; ``priority`` is years x competencies (the year's weight, 0-1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recommender import domain
from recommender.data.normalize import MODALITIES
from recommender.memo import Memoised

#: Programmes people are sent to by rule (induction, leadership after appointment, JF entry):
#: planned through the career path, not recommended as free choices.
ASSIGNMENT_ONLY = ("latsar", "pkp", "pka", "pkn_ii", "pkn_i", "fungsional_dasar")
NEXT_TIER = {
    "pelaksana": "ahli_pertama",
    "pemula": "terampil",
    "terampil": "mahir",
    "mahir": "penyelia",
    "ahli_pertama": "ahli_muda",
    "ahli_muda": "ahli_madya",
    "ahli_madya": "ahli_utama",
    "pengawas": "administrator",
    "administrator": "jpt_pratama",
    "jpt_pratama": "jpt_madya",
}


@dataclass
class Catalog(Memoised):
    """Programmes, standards and priorities as aligned arrays (see module docstring)."""

    programs: pd.DataFrame
    competencies: pd.Index
    positions: pd.DataFrame
    gain: np.ndarray
    target: np.ndarray
    req: np.ndarray
    req_weight: np.ndarray
    priority: dict[int, np.ndarray]
    tiers_ok: np.ndarray  # programmes x tiers (domain.TIERS)
    prereq: list[np.ndarray]
    next_position: np.ndarray  # position row -> likely target position row (or itself)
    #: competency type per competency (``competencies`` order: manajerial, sosial_kultural,
    #: teknis), object (C,); empty when the catalogue was built without the types
    competency_types: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=object))
    #: derived read-only values (per year features, indexes), computed once: see ``memo``
    cache: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def ids(self) -> pd.Index:
        """Programme ids in row order."""
        ids: pd.Index = pd.Index(self.programs["program_id"])
        return ids

    def offered(self, year: int) -> np.ndarray:
        """Programmes in the catalogue in ``year`` (bool per programme)."""
        to = self.programs["active_to"].fillna(9999).to_numpy()
        return (self.programs["active_from"].to_numpy() <= year) & (year <= to)

    def priority_for(self, year: int) -> np.ndarray:
        """Priority weight per competency in ``year`` (zeros when none are set)."""
        return self.priority.get(year, np.zeros(len(self.competencies), dtype=np.float32))


def _matrix(df: pd.DataFrame, rows: pd.Index, cols: pd.Index, r: str, c: str, v: str) -> np.ndarray:
    out = np.zeros((len(rows), len(cols)), dtype=np.float32)
    ri = rows.get_indexer(pd.Index(df[r]))
    ci = cols.get_indexer(pd.Index(df[c]))
    ok = (ri >= 0) & (ci >= 0)
    out[ri[ok], ci[ok]] = df[v].to_numpy(np.float32)[ok]
    return out


def _priority_row(rows: pd.DataFrame, comps: pd.Index) -> np.ndarray:
    """One year's priority weight per competency (the highest theme weight)."""
    best = rows.groupby("competency_id")["weight"].max()
    out = np.zeros(len(comps), dtype=np.float32)
    idx = comps.get_indexer(pd.Index(best.index))
    out[idx[idx >= 0]] = best.to_numpy(np.float32)[idx >= 0]
    return out


def _next_positions(positions: pd.DataFrame) -> np.ndarray:
    """Likely next position: the next JF tier of the same JF, else the same position."""
    ids = pd.Index(positions["position_id"])
    out = np.arange(len(positions))
    for i, (jf, tier) in enumerate(zip(positions["jf_code"], positions["tier"], strict=True)):
        nxt = NEXT_TIER.get(str(tier))
        if isinstance(jf, str) and nxt:
            j = ids.get_indexer(pd.Index([f"JF-{jf}-{nxt}"]))[0]
            out[i] = j if j >= 0 else i
    return out


def build_catalog(tables: dict[str, pd.DataFrame]) -> Catalog:
    """Catalogue matrices from the clean tables (programs, program_competencies, positions,
    position_requirements, priorities, competencies)."""
    programs = tables["programs"].reset_index(drop=True)
    comps = pd.Index(tables["competencies"]["competency_id"])
    pids = pd.Index(programs["program_id"])
    positions = tables["positions"].reset_index(drop=True)
    posidx = pd.Index(positions["position_id"])
    pc, reqs = tables["program_competencies"], tables["position_requirements"]
    prio = tables.get("priorities", pd.DataFrame(columns=["year", "competency_id", "weight"]))
    priority = {int(str(y)): _priority_row(g, comps) for y, g in prio.groupby("year")}
    tiers = pd.Index(domain.TIERS)
    tiers_ok = np.zeros((len(programs), len(tiers)), dtype=bool)
    for i, tl in enumerate(programs["target_tiers"].fillna("")):
        idx = tiers.get_indexer(pd.Index([t for t in tl.split(";") if t]))
        tiers_ok[i, idx[idx >= 0]] = True
    prereq = [
        pids.get_indexer(pd.Index(p.split(";"))) if isinstance(p, str) else np.array([], dtype=int)
        for p in programs["prerequisites"]
    ]
    return Catalog(
        programs,
        comps,
        positions,
        _matrix(pc, pids, comps, "program_id", "competency_id", "expected_gain"),
        _matrix(pc, pids, comps, "program_id", "competency_id", "target_level"),
        _matrix(reqs, posidx, comps, "position_id", "competency_id", "required_level"),
        _matrix(reqs, posidx, comps, "position_id", "competency_id", "weight"),
        priority,
        tiers_ok,
        prereq,
        _next_positions(positions),
        competency_types=_competency_types(tables["competencies"], comps),
    )


def _competency_types(competencies: pd.DataFrame, comps: pd.Index) -> np.ndarray:
    """The ``type`` of each competency of ``comps`` (None where the table has no type)."""
    if "type" not in competencies:
        return np.full(len(comps), None, dtype=object)
    types = competencies.set_index("competency_id")["type"]
    return types.reindex(comps).to_numpy(dtype=object)


def modality_codes(programs: pd.DataFrame) -> np.ndarray:
    """Stable integer code of each programme's modality (index in sorted MODALITIES)."""
    order = sorted(MODALITIES)
    return programs["modality"].map({m: i for i, m in enumerate(order)}).to_numpy()
