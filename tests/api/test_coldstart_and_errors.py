"""Cold start from an inline profile, and validation errors that never echo what was sent."""

from __future__ import annotations

from fastapi.testclient import TestClient

from recommender.service import Service


def _profile(service: Service) -> dict:  # type: ignore[type-arg]
    people = service.world.snap.people
    someone = people.iloc[0]
    return {
        "position_id": str(someone["position_id"]),
        "unit_id": str(someone["unit_id"]),
        "grade": "3b",
        "education": "Strata 1",
    }


def test_cold_start_recommends_from_a_profile(client: TestClient, service: Service) -> None:
    body = {"profile": _profile(service), "k": 5}
    r = client.post("/v1/recommendations/programs", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["model"]["name"] == "jenjang-programs" and 1 <= len(out["items"]) <= 5
    first = out["items"][0]["program_id"]
    body["profile"]["completed"] = [first]
    again = client.post("/v1/recommendations/programs", json=body).json()
    assert first not in [i["program_id"] for i in again["items"]]


def test_cold_start_errors_name_the_field(client: TestClient, service: Service) -> None:
    bad = {"profile": {**_profile(service), "position_id": "NOPE"}}
    r = client.post("/v1/recommendations/programs", json=bad)
    assert r.status_code == 422 and "position_id" in r.text
    r = client.post("/v1/recommendations/programs", json={"profile": _profile(service), "extra": 1})
    assert r.status_code == 422
    r = client.post("/v1/recommendations/programs", json={"profile": {"grade": "III/b"}})
    assert r.status_code == 422 and "position_id" in r.text


def test_422_does_not_echo_personal_data(client: TestClient) -> None:
    nip = "198501012010011001"
    long_id = nip * 4
    r = client.get(f"/v1/employees/{long_id}/recommendations/programs")
    assert r.status_code == 422
    assert nip not in r.text
    r = client.post(
        "/v1/recommendations/programs",
        json={"profile": {"position_id": nip, "grade": nip, "education": nip}},
    )
    assert r.status_code == 422
    assert nip not in r.text
