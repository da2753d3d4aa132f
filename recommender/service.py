"""The serving state: organisation as of today, verified models, and the answers built from them.

Everything heavy is built once (at start-up and on reload) and swapped atomically: a request
reads one immutable :class:`World` and one :class:`Models` reference. Answers for an employee
are cached until an event about that person or a reload invalidates them. MLflow is touched only
when models are (re)loaded, never on the request path.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recommender import bundles
from recommender.careers.features import CareerContext, build_context
from recommender.careers.patterns import PatternTable, move_patterns
from recommender.careers.recommend import as_dict, next_positions
from recommender.careers.rules import load_rules
from recommender.config import Settings
from recommender.data.io import load_clean
from recommender.programs import reasons
from recommender.programs.catalog import Catalog, build_catalog
from recommender.programs.features import Usage, build_usage
from recommender.programs.ranker import ModelIntegrityError, ProgramRanker
from recommender.programs.recommend import recommend
from recommender.snapshot import Snapshot, build_snapshot

log = logging.getLogger(__name__)


class UnknownEmployeeError(LookupError):
    """No active employee with this identifier (answered as 404, never echoing a NIP)."""


class ModelUnavailableError(RuntimeError):
    """A model needed for the answer is not loaded (answered as 503)."""


@dataclass
class World:
    """The organisation as of ``snap.at``: tables, snapshot, catalogue, usage, careers context
    and career patterns."""

    tables: dict[str, pd.DataFrame]
    snap: Snapshot
    cat: Catalog
    usage: Usage
    careers: CareerContext
    patterns: PatternTable
    year: int


@dataclass(frozen=True)
class Models:
    """Verified bundles and their parsed rankers (None when a model could not be loaded)."""

    bundles: dict[str, bundles.Bundle]
    rankers: dict[str, ProgramRanker]

    def version(self, name: str) -> str | None:
        """Registry version of ``name`` or None."""
        b = self.bundles.get(name)
        return b.version if b else None


def build_world(settings: Settings, at: pd.Timestamp | None = None) -> World:
    """Load the clean tables and build everything requests need, as of ``at`` (default: today).

    Raises FileNotFoundError / DataSourceError when the clean tables are missing, RulesError
    for a broken career-rules file.
    """
    at = pd.Timestamp(at) if at is not None else pd.Timestamp.today().normalize()
    tables = load_clean(settings.clean_dir)
    snap = build_snapshot(tables, at)
    cat = build_catalog(tables)
    rules = load_rules(settings.career_rules)
    return World(
        tables=tables,
        snap=snap,
        cat=cat,
        usage=build_usage(tables, snap),
        careers=build_context(tables, snap, cat, rules),
        patterns=move_patterns(
            tables["career_moves"], tables["enrollments"], tables["positions"], at
        ),
        year=at.year,
    )


def load_models(settings: Settings, previous: Models | None = None) -> Models:
    """Champions of every model (registry first, else the verified local copy). A model that
    cannot be loaded or verified keeps its previous version when there is one."""
    found: dict[str, bundles.Bundle] = {}
    rankers: dict[str, ProgramRanker] = {}
    for name in bundles.MODEL_NAMES:
        try:
            bundle = bundles.resolve(settings, name)
            rankers[name] = bundle.ranker()
            found[name] = bundle
        except (bundles.BundleError, ModelIntegrityError) as exc:
            log.warning("model %s not loaded: %s", name, exc)
            if previous is not None and name in previous.bundles:
                found[name] = previous.bundles[name]
                rankers[name] = previous.rankers[name]
    return Models(found, rankers)


class AnswerCache:
    """A bounded LRU of answers keyed by (employee_id, ...); ``forget(employee_id)`` drops a
    person's answers, ``clear()`` all of them. Thread-safe."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._data: OrderedDict[tuple[Hashable, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Hashable, ...]) -> Any | None:
        """The cached answer or None."""
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key: tuple[Hashable, ...], value: Any) -> None:
        """Store an answer, evicting the least recently used beyond ``size``."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def forget(self, employee_id: str) -> None:
        """Drop every answer about ``employee_id``."""
        with self._lock:
            for key in [k for k in self._data if k[0] == employee_id]:
                del self._data[key]

    def clear(self) -> None:
        """Drop everything."""
        with self._lock:
            self._data.clear()


class Service:
    """What the routes call: holds the current world and models, answers, caches, reloads."""

    def __init__(self, settings: Settings, world: World, models: Models) -> None:
        self.settings = settings
        self.world = world
        self.models = models
        self.cache = AnswerCache()
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- lifecycle
    def reload(self) -> dict[str, Any]:
        """Reload models (keeping a model whose new version fails verification) and rebuild the
        world; swap both atomically and clear the cache. Returns the loaded model descriptions."""
        models = load_models(self.settings, previous=self.models)
        world = build_world(self.settings, self.world.snap.at)
        with self._lock:
            self.models, self.world = models, world
            self.cache.clear()
        return self.describe_models()

    def describe_models(self) -> dict[str, Any]:
        """``{"models": [...]}`` for ``GET /v1/models``."""
        return {"models": [b.describe() for b in self.models.bundles.values()]}

    def mark_completed(self, employee_id: str, program_id: str) -> None:
        """An event says the person completed a programme: it shows in their next answers."""
        w = self.world
        try:
            row = w.snap.row(employee_id)
        except KeyError:
            return
        col = w.cat.ids.get_indexer(pd.Index([program_id]))[0]
        if col >= 0:
            with self._lock:
                w.snap.completed[row, col] = True
                w.snap.taken[row, col] = True
        self.cache.forget(employee_id)

    def _row(self, employee_id: str) -> int:
        try:
            return self.world.snap.row(employee_id)
        except KeyError:
            raise UnknownEmployeeError(employee_id) from None

    def _ranker(self, name: str) -> tuple[ProgramRanker, str]:
        models = self.models
        if name not in models.rankers:
            raise ModelUnavailableError(f"model {name} is not loaded: train and promote it first")
        return models.rankers[name], models.bundles[name].version

    # ----------------------------------------------------------------- answers
    def programs(
        self,
        employee_id: str,
        k: int = 10,
        modality: str | None = None,
        accredited_only: bool = False,
        year: int | None = None,
        lang: str = "id",
    ) -> dict[str, Any]:
        """Top ``k`` programmes with scores, reason codes and reasons. Raises UnknownEmployeeError,
        ModelUnavailableError."""
        key = (employee_id, "programs", k, modality, accredited_only, year, lang)
        hit = self.cache.get(key)
        if hit is not None:
            return dict(hit)
        w = self.world
        row = self._row(employee_id)
        ranker, version = self._ranker(bundles.PROGRAMS)
        year = year or w.year
        frame = recommend(
            w.snap, w.cat, w.usage, ranker, employee_id, year, k, accredited_only, modality
        )
        answer = {
            "model": {"name": bundles.PROGRAMS, "version": version},
            "year": year,
            "items": self._program_items(frame, row, year, lang),
        }
        self.cache.put(key, answer)
        return dict(answer)

    def _program_items(
        self, frame: pd.DataFrame, row: int, year: int, lang: str
    ) -> list[dict[str, Any]]:
        w = self.world
        info = w.cat.memo("program_info", lambda: _program_info(w.cat))
        names = w.cat.memo("competency_names", lambda: _competency_names(w))
        posidx = w.cat.memo("position_index", lambda: pd.Index(w.cat.positions["position_id"]))
        p = int(posidx.get_indexer(pd.Index([w.snap.people["position_id"].iat[row]]))[0])
        nxt = int(w.cat.next_position[p]) if p >= 0 else -1
        levels = w.snap.levels[row]
        prows = w.cat.ids.get_indexer(pd.Index(frame["program_id"]))
        cols = frame[[*reasons.REASON_FEATURES, "score", "rank"]].to_numpy(float)
        items = []
        for prow, values in zip(prows.tolist(), cols, strict=True):
            feats = dict(zip(reasons.REASON_FEATURES, values, strict=False))
            codes = reasons.codes_for(feats)[:3]
            cur = _competency(w.cat, prow, p, levels, names)
            tgt = _competency(w.cat, prow, nxt, levels, names) if nxt != p else ""
            items.append(
                {
                    "rank": int(values[-1]),
                    **info[prow],
                    "score": round(float(values[-2]), 6),
                    "reason_codes": codes,
                    "reasons": reasons.render(codes, lang, cur, tgt, year),
                }
            )
        return items

    def positions(self, employee_id: str, k: int = 5, lang: str = "id") -> dict[str, Any]:
        """Top ``k`` next positions with eligibility, readiness and reasons. Raises
        UnknownEmployeeError (the careers model is optional: standards-only ranking without it)."""
        key = (employee_id, "positions", k, lang)
        hit = self.cache.get(key)
        if hit is not None:
            return dict(hit)
        self._row(employee_id)
        w = self.world
        ranker = self.models.rankers.get(bundles.CAREERS)
        found = next_positions(w.careers, ranker, employee_id, k, w.patterns)
        answer = {
            "model": {"name": bundles.CAREERS, "version": self.models.version(bundles.CAREERS)},
            "items": [as_dict(s) for s in found],
        }
        self.cache.put(key, answer)
        return dict(answer)


def _program_info(cat: Catalog) -> list[dict[str, Any]]:
    """Per programme row: the fields an answer shows."""
    p = cat.programs
    return [
        {
            "program_id": str(pid),
            "title": str(title),
            "modality": str(mod),
            "jp": int(jp),
            "cost_idr": int(cost),
            "lan_accredited": bool(acc),
        }
        for pid, title, mod, jp, cost, acc in zip(
            p["program_id"],
            p["title"],
            p["modality"],
            p["jp"],
            p["cost_idr"],
            p["lan_accredited"],
            strict=True,
        )
    ]


def _competency_names(w: World) -> dict[str, str]:
    comps = w.tables["competencies"]
    return dict(zip(comps["competency_id"].astype(str), comps["name"].astype(str), strict=True))


def _competency(
    cat: Catalog, prog: int, pos: int, levels: np.ndarray, names: dict[str, str]
) -> str:
    if pos < 0:
        return ""
    c = reasons.top_gap_competency(cat.gain[prog], cat.req[pos], cat.req_weight[pos], levels)
    if c is None:
        return ""
    cid = cat.competencies[c]
    return str(names.get(cid, cid))
