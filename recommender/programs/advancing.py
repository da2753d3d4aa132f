"""Which programmes advance a person's career: they close a gap of the likely next post.

The definition the programme answers' ranking policy (:mod:`recommender.ranking_policy`) and
the exposure measure of the promotion gate share (issue 18):

- the levels HR sees (``seen``): the last assessed level of each competency, else the current
  post's required level - 0.5 (1.0 where the post does not require it), as the programme
  features assume;
- the standard of the likely next post (``nxt``): the required levels of
  :attr:`~recommender.programs.catalog.Catalog.next_position` (the next tier of the same JF);
  when the catalogue has no next post, the managerial and socio-cultural competencies the
  current post requires are raised to at least the next tier's managerial level
  (:data:`recommender.domain.MANAGERIAL_LEVEL_BY_TIER`); 0 for a post not in the catalogue;
- a (person, programme) pair advances when on some competency the person is below the next
  standard and the programme's target level is above their level.

Everything is computed for the snapshot rows asked for, so the service pays for one person per
request (one row of competencies and its candidates) and the evaluation for everyone at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender import domain
from recommender.programs.catalog import NEXT_TIER, Catalog
from recommender.snapshot import Snapshot

#: Competency types whose level the next tier raises even without a next post in the catalogue.
MANAGERIAL_TYPES = ("manajerial", "sosial_kultural")
#: Pairs handled at once by :func:`advancing_programmes` (bounds the (pairs, C) temporaries).
PAIR_BATCH = 20_000


def _types(cat: Catalog, competency_types: pd.Series | None) -> np.ndarray:
    if competency_types is not None:
        return competency_types.reindex(cat.competencies).to_numpy(dtype=object)
    if len(cat.competency_types) != len(cat.competencies):
        raise ValueError("the catalogue has no competency types: pass competency_types")
    return cat.competency_types


def post_standards(
    *, cat: Catalog, competency_types: pd.Series | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per catalogue post, its required levels and the standard of the likely next post (module
    docstring), both float (P, C) in ``cat.positions`` x ``cat.competencies`` order; memoised on
    the catalogue for its own competency types. Raises ValueError when no competency types are
    known."""

    def build() -> tuple[np.ndarray, np.ndarray]:
        here = np.arange(len(cat.positions))
        step = cat.next_position[here]
        req = cat.req[here].astype(float)
        nxt = cat.req[step].astype(float)
        tier_next = cat.positions["tier"].map(NEXT_TIER)
        floor = tier_next.map(domain.MANAGERIAL_LEVEL_BY_TIER).fillna(0).to_numpy(float)
        floor = np.where(step == here, floor, 0.0)
        managerial = np.isin(_types(cat, competency_types), MANAGERIAL_TYPES)[None, :]
        nxt = np.where(managerial & (req > 0), np.maximum(nxt, floor[:, None]), nxt)
        return req, nxt

    if competency_types is not None:
        return build()
    return cat.memo("advancing_post_standards", build)


def _post_rows(cat: Catalog, position_ids: np.ndarray) -> np.ndarray:
    """Catalogue row of each position id (-1 when not in the catalogue), int (n,)."""
    where = cat.memo(
        "advancing_post_rows",
        lambda: {str(x): i for i, x in enumerate(cat.positions["position_id"])},
    )
    return np.array([where.get(str(x), -1) for x in position_ids], dtype=int)


def next_standard(
    *,
    snap: Snapshot,
    cat: Catalog,
    rows: np.ndarray | None = None,
    competency_types: pd.Series | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The levels HR sees and the standard of the likely next post (module docstring).

    ``rows``: snapshot rows (n,), default every person; ``competency_types``: competency_id ->
    type, default the catalogue's (:attr:`Catalog.competency_types`). Returns (seen, nxt), both
    float32 (n, C) in ``cat.competencies`` order (0 standards for a post not in the catalogue).
    Per post the standards come from :func:`post_standards`, so a request pays for one row.
    Raises IndexError for a row outside the snapshot, ValueError when no competency types are
    known, KeyError when the snapshot's people lack ``position_id``.
    """
    ids = snap.memo(
        "advancing_position_ids", lambda: snap.people["position_id"].to_numpy(dtype=object)
    )
    if rows is not None:
        rows = np.asarray(rows, dtype=int)
        ids = ids[rows]
    levels = snap.levels if rows is None else snap.levels[rows]
    pos = _post_rows(cat, ids)
    known = (pos >= 0)[:, None]
    req_p, nxt_p = post_standards(cat=cat, competency_types=competency_types)
    here = np.maximum(pos, 0)
    req = np.where(known, req_p[here], 0.0)
    nxt = np.where(known, nxt_p[here], 0.0)
    seen = np.where(np.isnan(levels), np.where(req > 0, req - 0.5, 1.0), levels)
    return seen.astype(np.float32), nxt.astype(np.float32)


def advancing_programmes(
    *,
    seen: np.ndarray,
    nxt: np.ndarray,
    target: np.ndarray,
    person: np.ndarray,
    programme: np.ndarray,
) -> np.ndarray:
    """Whether each (person, programme) pair advances (module docstring).

    ``seen`` and ``nxt`` (people, C) from :func:`next_standard`, ``target`` (programmes, C; 0
    where a programme does not touch a competency, e.g. ``Catalog.target``), ``person`` and
    ``programme`` (n,) the row indexes of the pairs into them. Returns bool (n,). Raises
    IndexError for a row outside.
    """
    person = np.asarray(person, dtype=int)
    programme = np.asarray(programme, dtype=int)
    out = np.zeros(len(person), dtype=bool)
    for i in range(0, len(person), PAIR_BATCH):
        p, q = person[i : i + PAIR_BATCH], programme[i : i + PAIR_BATCH]
        level = seen[p]
        out[i : i + PAIR_BATCH] = ((nxt[p] > level) & (target[q] > level)).any(axis=1)
    return out


def advancing_for(*, snap: Snapshot, cat: Catalog, row: int, program_ids: np.ndarray) -> np.ndarray:
    """Whether each programme of ``program_ids`` (n,) advances the person at snapshot ``row``
    (the service's per-request path: one person's standards, then n pairs). Returns bool
    (n,); an id not in the catalogue is not advancing. Raises IndexError for a row outside the
    snapshot and ValueError when the catalogue has no competency types."""
    seen, nxt = next_standard(snap=snap, cat=cat, rows=np.array([row]))
    where = cat.memo("advancing_program_rows", lambda: {str(x): i for i, x in enumerate(cat.ids)})
    rows = np.array([where.get(str(x), -1) for x in program_ids], dtype=int)
    found = rows >= 0
    out = np.zeros(len(rows), dtype=bool)
    out[found] = advancing_programmes(
        seen=seen,
        nxt=nxt,
        target=cat.target,
        person=np.zeros(int(found.sum()), dtype=int),
        programme=rows[found],
    )
    return out
