"""Programme and position endpoints: answers, envelopes, languages and errors."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from recommender.service import Service


def test_programs_answer_with_envelope_and_reasons(client: TestClient, nips: list[str]) -> None:
    nip = nips[0]
    r = client.get(f"/v1/employees/{nip}/recommendations/programs", params={"k": 4})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["employee"] == nip  # echoes what was sent
    assert body["request_id"] == r.headers["X-Request-ID"]
    assert body["model"] == {"name": "jenjang-programs", "version": "1"}
    assert body["language"] == "id"
    assert 1 <= len(body["items"]) <= 4
    scores = [i["score"] for i in body["items"]]
    assert scores == sorted(scores, reverse=True)
    for item in body["items"]:
        assert item["reason_codes"] and len(item["reasons"]) == len(item["reason_codes"])


def test_english_on_request(client: TestClient, nips: list[str]) -> None:
    url = f"/v1/employees/{nips[1]}/recommendations/programs"
    idn = client.get(url, params={"k": 3}).json()
    eng = client.get(url, params={"k": 3}, headers={"Accept-Language": "en-GB,en;q=0.9"}).json()
    assert eng["language"] == "en"
    assert [i["program_id"] for i in idn["items"]] == [i["program_id"] for i in eng["items"]]
    assert idn["items"][0]["reasons"] != eng["items"][0]["reasons"]


def test_filters(client: TestClient, nips: list[str]) -> None:
    url = f"/v1/employees/{nips[2]}/recommendations/programs"
    acc = client.get(url, params={"k": 10, "accredited_only": True}).json()
    assert all(i["lan_accredited"] for i in acc["items"])
    elearn = client.get(url, params={"k": 10, "modality": "e_learning"}).json()
    assert all(i["modality"] == "e_learning" for i in elearn["items"])


@pytest.mark.parametrize(
    "query", [{"k": 0}, {"k": 51}, {"k": "many"}, {"year": 1900}, {"accredited_only": "maybe"}]
)
def test_bad_parameters_are_422(client: TestClient, nips: list[str], query: dict) -> None:  # type: ignore[type-arg]
    r = client.get(f"/v1/employees/{nips[0]}/recommendations/programs", params=query)
    assert r.status_code == 422
    assert nips[0] not in r.text


@pytest.mark.parametrize("ident", ["199901012020011001", "12345", "not-a-nip", "e_unknown"])
def test_unknown_employee_is_404(client: TestClient, ident: str) -> None:
    for path in ("programs", "positions"):
        r = client.get(f"/v1/employees/{ident}/recommendations/{path}")
        assert r.status_code == 404, r.text
        assert r.json()["detail"] == "no active employee with this identifier"
        assert ident not in r.json()["detail"]


def test_positions(client: TestClient, nips: list[str]) -> None:
    r = client.get(f"/v1/employees/{nips[3]}/recommendations/positions", params={"k": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["model"]["name"] == "jenjang-careers"
    assert len(body["items"]) == 3
    for item in body["items"]:
        assert isinstance(item["eligible"], bool)
        assert item["eligible"] or item["not_yet"]
        assert {"jpm", "category", "gaps"} <= set(item["readiness"])
    assert (
        client.get(
            f"/v1/employees/{nips[3]}/recommendations/positions", params={"k": 21}
        ).status_code
        == 422
    )


def test_completion_is_not_recommended_again(
    client: TestClient, nips: list[str], service: Service
) -> None:
    from recommender.api.deps import employee_key

    nip = nips[4]
    url = f"/v1/employees/{nip}/recommendations/programs"
    first = client.get(url, params={"k": 5}).json()["items"][0]["program_id"]
    service.mark_completed(employee_key(nip, service.settings), first)
    again = [i["program_id"] for i in client.get(url, params={"k": 5}).json()["items"]]
    assert first not in again


def test_operations(client: TestClient, keys: dict[str, str]) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"]
    names = {m["name"] for m in client.get("/v1/models").json()["models"]}
    assert names == {"jenjang-programs", "jenjang-careers"}
    client.get("/healthz")
    text = client.get("/metrics", headers={"X-API-Key": keys["admin"]}).text
    assert "jenjang_requests_total" in text and 'route="/healthz"' in text
    assert client.get("/openapi.json").json()["paths"]


def test_no_nip_in_logs(
    client: TestClient, nips: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.get(f"/v1/employees/{nips[5]}/recommendations/programs")
    client.get(f"/v1/employees/{nips[5]}/recommendations/positions")
    client.get("/v1/employees/199901012020011001/recommendations/programs")
    # the server side only: the test's own HTTP client (httpx) logs the URLs it calls
    server = [rec for rec in caplog.records if not rec.name.startswith("httpx")]
    assert all(nips[5] not in rec.getMessage() for rec in server)
    assert all("199901012020011001" not in rec.getMessage() for rec in server)


def test_position_reasons_follow_the_language(client: TestClient, nips: list[str]) -> None:
    # the first person whose answer shows a post not open yet (the ranking policy moves posts
    # open within the horizon up, so not every answer has one)
    for nip in nips[3:15]:
        url = f"/v1/employees/{nip}/recommendations/positions"
        idn = client.get(url, params={"k": 10}).json()["items"]
        id_lines = [line for item in idn for line in item["not_yet"]]
        if id_lines:
            break
    eng = client.get(url, params={"k": 10}, headers={"Accept-Language": "en"}).json()["items"]
    en_lines = [line for item in eng for line in item["not_yet"]]
    assert id_lines and len(id_lines) == len(en_lines)
    assert all(line.startswith(("perlu", "tidak", "usia")) for line in id_lines), id_lines
    assert all(line.startswith(("needs", "no ", "must")) for line in en_lines), en_lines


def test_position_items_carry_reason_codes(client: TestClient, nips: list[str]) -> None:
    items = client.get(f"/v1/employees/{nips[3]}/recommendations/positions").json()["items"]
    for item in items:
        assert item["reason_codes"][0] == ("ELIGIBLE" if item["eligible"] else "NOT_YET_ELIGIBLE")
        assert set(item["reason_codes"]) <= {
            "ELIGIBLE",
            "NOT_YET_ELIGIBLE",
            "MOVES_FROM_POST",
            "VACANCY",
            "RETIREMENT",
            "OWN_UNIT",
            "CAREER_PATTERN",
        }
