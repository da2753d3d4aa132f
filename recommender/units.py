"""Unit authorization: which units a key or an HR account limited to some units may see (a unit
covers every unit below it)."""

from __future__ import annotations

import pandas as pd


def unit_ancestors(units: pd.DataFrame) -> dict[str, frozenset[str]]:
    """Unit -> itself and every unit above it (a key limited to a unit covers its sub-units).

    ``units``: the clean ``units`` table (``unit_id``, ``parent_id``; a cycle stops the chain)."""
    parent = dict(zip(units["unit_id"], units["parent_id"], strict=True))
    out: dict[str, frozenset[str]] = {}
    for unit in parent:
        chain, u = [unit], parent.get(unit)
        while isinstance(u, str) and u not in chain:
            chain.append(u)
            u = parent.get(u)
        out[str(unit)] = frozenset(chain)
    return out


def unit_visible(
    *,
    ancestors: dict[str, frozenset[str]],
    unit_id: str,
    units: frozenset[str] | None,
    known_only: bool = True,
) -> bool:
    """True when ``unit_id`` is one of ``units`` or below one (``units`` None = every unit);
    with ``known_only`` a unit missing from ``ancestors`` (:func:`unit_ancestors`) is never
    visible, else it is only itself. Raises nothing."""
    chain = ancestors.get(unit_id)
    if chain is None:
        if known_only:
            return False
        chain = frozenset({unit_id})
    return units is None or bool(chain & units)
