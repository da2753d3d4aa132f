"""Benchmarks only (``jenjang bench serve``): ``GET /v1/bench/trivial?k=`` answers a static
body of the shape and size of a programme answer with ``k`` items (about 4.1 kB for 10),
through the same middleware and serialisation but with no key check and no service work.
Included only when asked for (:func:`recommender.api.app.create_app`, ``bench``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

router = APIRouter(prefix="/v1/bench", include_in_schema=False)

_ITEM = {
    "program_id": "PT000",
    "title": "Pelatihan Jarak Jauh Penyusunan Program Pelatihan Kompetensi",
    "modality": "pjj",
    "jp": 31,
    "cost_idr": 2420000,
    "lan_accredited": False,
    "score": -0.259381,
    "reason_codes": ["PRIORITY", "PEERS", "SIMILAR"],
    "reasons": [
        "Selaras dengan prioritas organisasi tahun 2026",
        "Banyak diikuti pegawai pada jabatan yang sama",
        "Serupa dengan pelatihan yang pernah Anda ikuti",
    ],
}
_HEAD = {"employee": "e_benchbenchbenchb", "language": "id"}
_MODEL = {"model": {"name": "jenjang-programs", "version": "1"}, "year": 2026}
#: The answer body for each ``k`` (1..50), built once.
BODIES = {
    k: {**_HEAD, **_MODEL, "items": [{"rank": i, **_ITEM} for i in range(1, k + 1)]}
    for k in range(1, 51)
}


@router.get("/trivial")
async def trivial(request: Request, k: Annotated[int, Query(ge=1, le=50)] = 10) -> dict[str, Any]:
    return {"request_id": request.state.request_id, **BODIES[k]}
