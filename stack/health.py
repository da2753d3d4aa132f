"""Is it up yet: HTTP health, the MLflow registry's champions, the Dask workers, and what
the ``jenjang`` commands offer."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping

from stack.config import StackError, exe


# ------------------------------------------------------------------------------- health
def http_ok(url: str, timeout: float = 2.0) -> bool:
    """True when ``GET url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(resp.status) == 200
    except (OSError, urllib.error.URLError):
        return False


def has_champion(tracking_uri: str, name: str) -> bool:
    """Whether ``name@champion`` exists in the MLflow server's registry (REST API)."""
    query = urllib.parse.urlencode({"name": name, "alias": "champion"})
    url = f"{tracking_uri}/api/2.0/mlflow/registered-models/alias?{query}"
    try:
        with urllib.request.urlopen(url, timeout=30) as resp:
            return int(resp.status) == 200
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace")
        # no such model: 404 RESOURCE_DOES_NOT_EXIST; a model without the alias: 400 "not found"
        if exc.code == 404 or (exc.code == 400 and "not found" in body):
            return False
        raise StackError(f"MLflow registry at {tracking_uri}: HTTP {exc.code} {body}") from exc
    except OSError as exc:
        raise StackError(f"MLflow registry at {tracking_uri}: {exc}") from exc


def dask_workers(address: str) -> int:
    """Number of workers registered with the scheduler at ``address`` (0 when unreachable)."""
    from distributed import Client

    try:
        with Client(address, timeout="5s") as client:  # type: ignore[no-untyped-call]
            return len(client.nthreads())
    except (OSError, TimeoutError):
        return 0


def offers_dask(env: Mapping[str, str], kind: str) -> bool:
    """Whether ``jenjang train <kind>`` has a ``--dask`` option (checked at run time)."""
    out = subprocess.run(
        [exe("jenjang"), "train", kind, "--help"],
        env={**env, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"},
        capture_output=True,
        text=True,
        check=False,
    )
    return "--dask" in out.stdout
