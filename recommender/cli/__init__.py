"""The ``jenjang`` command line, runtime part: what a service host needs (``serve``, ``db``,
``keys``, ``users``), without the offline package. Offline commands plug in through the
entry-point group ``jenjang.commands`` (see :mod:`recommender.cli.root`).

``app`` is the runtime application alone; :func:`main` (the ``jenjang`` script) runs the
application with every installed plug-in.
"""

from __future__ import annotations

from recommender.cli.root import ENTRY_POINT_GROUP, build_app, load_plugins, main, runtime_app

app = runtime_app()

__all__ = ["ENTRY_POINT_GROUP", "app", "build_app", "load_plugins", "main", "runtime_app"]
