"""The folder of a batch run (docs/batch.md): partition files written atomically, the manifest,
one writer at a time, and what a rerun may resume."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from training.batch_data import SPILL_DIR
from training.batch_spec import LOCK, MANIFEST, BatchError
from training.batch_state import Partitions
from training.fingerprint import file_sha256


def part_name(*, index: int) -> str:
    """File name of partition ``index``: ``part-00000.parquet``, ..."""
    return f"part-{index:05d}.parquet"


def write_atomic(*, path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, synced and renamed (OSError when it
    cannot be written)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_manifest(*, out: Path, manifest: dict[str, Any]) -> None:
    """Replace ``out/_manifest.json`` atomically with ``manifest`` (OSError when it cannot)."""
    write_atomic(path=out / MANIFEST, data=_dump(manifest))


def _dump(manifest: dict[str, Any]) -> bytes:
    """The manifest as the file holds it (sorted keys, indented, final newline)."""
    return (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()


def _ours(name: str) -> bool:
    """True for a file name a batch run writes in its folder."""
    return (
        name in (MANIFEST, LOCK, SPILL_DIR)
        or (name.startswith("part-") and name.endswith(".parquet"))
        or (name.startswith(".") and name.endswith(".tmp"))
    )


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What differs between a recorded specification and a new one, as short phrases."""
    out = []
    labels = {
        "kind": "kind",
        "k": "k",
        "as_of": "as-of date",
        "partition_size": "partition size",
        "format": "format",
    }
    for key, label in labels.items():
        if old.get(key) != new.get(key):
            out.append(f"{label} {old.get(key)} -> {new.get(key)}")
    om, nm = old.get("model") or {}, new.get("model") or {}
    if (om.get("name"), om.get("version"), om.get("sha256")) != (
        nm.get("name"),
        nm.get("version"),
        nm.get("sha256"),
    ):
        out.append(f"model {om.get('name')} version {om.get('version')} -> {nm.get('version')}")
    if (old.get("data") or {}).get("fingerprint") != (new.get("data") or {}).get("fingerprint"):
        out.append("clean data changed (fingerprint)")
    if old.get("career_rules") != new.get("career_rules"):
        out.append("career rules changed")
    return out


@contextlib.contextmanager
def locked(*, out: Path) -> Iterator[None]:
    """One writer per folder (the lock goes with the process, also when it is killed); raises
    BatchError when another run holds it."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / LOCK).open("a") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(f"another batch run is writing {out}") from None
        yield


def prepare_folder(*, out: Path, spec: dict[str, Any], overwrite: bool) -> dict[str, Any] | None:
    """The existing manifest to resume from, or None for a fresh start; refuses a folder with a
    different run (unless ``overwrite``) or with files that are not batch output."""
    path = out / MANIFEST
    names = [p.name for p in out.iterdir() if p.name != LOCK]
    old: dict[str, Any] | None = None
    if path.exists():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            old = {}
    foreign = sorted(n for n in names if not _ours(n))
    if overwrite:
        for n in names:
            if n == SPILL_DIR:
                shutil.rmtree(out / n, ignore_errors=True)
            elif _ours(n):
                (out / n).unlink()
        return None
    if foreign and old is None:
        more = ", ..." if len(foreign) > 3 else ""
        raise BatchError(
            f"{out} is not empty and holds no batch manifest ({', '.join(foreign[:3])}{more}): "
            "choose an empty or new folder, or pass --overwrite"
        )
    for n in names:
        if n.startswith(".") and n.endswith(".tmp"):
            (out / n).unlink()  # half-written by an interrupted run
    if old is None:
        if any(n.startswith("part-") for n in names):
            raise BatchError(f"{out} holds partitions but no manifest: pass --overwrite")
        return None
    diff = _differences(old, spec)
    if diff:
        raise BatchError(
            f"{out} holds a different batch run ({'; '.join(diff)}): choose another folder, "
            "or pass --overwrite to replace it"
        )
    return old


def partition_plan(*, slicer: Partitions) -> list[dict[str, Any]]:
    """One manifest entry per partition of ``slicer`` (``index``, ``file``, ``employees``, first
    and last employee; ``rows``, counts and ``sha256`` None: nothing done yet)."""
    entries = []
    for i in range(slicer.count):
        ids = slicer.employees(i)
        entries.append(
            {
                "index": i,
                "file": part_name(index=i),
                "employees": len(ids),
                "first_employee": str(ids[0]),
                "last_employee": str(ids[-1]),
                "rows": None,
                "fewer_than_k": None,
                "without_rows": None,
                "sha256": None,
            }
        )
    return entries


def partition_done(*, out: Path, entry: dict[str, Any]) -> bool:
    """True when the partition of ``entry`` is written and matches its recorded SHA-256."""
    path = out / entry["file"]
    return (
        bool(entry.get("sha256")) and path.is_file() and file_sha256(path=path) == entry["sha256"]
    )
