"""The operations endpoints and the error answers, as the probe of issue 22 found them:
``/readyz`` says ready or not and nothing else, ``/metrics`` needs an admin key, ``/docs``
loads nothing from another origin (and is off in production unless turned on), and a 422
never echoes a submitted value or key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import pytest
from fastapi.testclient import TestClient

from recommender.config import Settings
from recommender.service import Service

NIP = "198501012010011001"
#: A long enough pseudonym key for production settings.
PRODUCTION_KEY = "p" * 40


class _Urls(HTMLParser):
    """Every ``src`` and ``href`` of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]


def _urls(html: str) -> list[str]:
    parser = _Urls()
    parser.feed(html)
    return parser.urls


def _profile(service: Service) -> dict[str, object]:
    someone = service.world.snap.people.iloc[0]
    return {
        "position_id": str(someone["position_id"]),
        "unit_id": str(someone["unit_id"]),
        "grade": "3b",
        "education": "Strata 1",
    }


@pytest.fixture
def production(api_settings: Settings) -> Settings:
    """The test settings with ``env=production`` (and a key production accepts)."""
    fields = {**api_settings.model_dump(), "env": "production", "pseudonym_key": PRODUCTION_KEY}
    return Settings(**fields)


@pytest.fixture
def anonymous(api_settings: Settings, service: Service) -> Iterator[TestClient]:
    """A client sending no API key."""
    from recommender.api.app import create_app

    with TestClient(create_app(api_settings, service)) as c:
        yield c


# ----------------------------------------------------------------------------- probes
def test_readyz_says_ready_and_nothing_else(
    anonymous: TestClient, service: Service, keys: dict[str, str]
) -> None:
    r = anonymous.get("/readyz")
    assert r.status_code == 200 and r.json() == {"ready": True}
    for bundle in service.models.bundles.values():
        assert bundle.sha256 not in r.text and bundle.run_id not in r.text
    # operators keep the details behind a key
    models = anonymous.get("/v1/models", headers={"X-API-Key": keys["admin"]})
    assert models.status_code == 200
    assert {m["sha256"] for m in models.json()["models"]} == {
        b.sha256 for b in service.models.bundles.values()
    }


def test_metrics_need_an_admin_key(anonymous: TestClient, keys: dict[str, str]) -> None:
    r = anonymous.get("/metrics")
    assert r.status_code == 401 and "jenjang_" not in r.text
    lms = anonymous.get("/metrics", headers={"X-API-Key": keys["lms"]})
    assert lms.status_code == 403 and "jenjang_" not in lms.text
    admin = anonymous.get("/metrics", headers={"Authorization": f"Bearer {keys['admin']}"})
    assert admin.status_code == 200 and "jenjang_requests_total" in admin.text
    doc = anonymous.get("/openapi.json").json()
    assert doc["paths"]["/metrics"]["get"]["security"], "the document says a key is needed"


# ------------------------------------------------------------------------------- /docs
def test_docs_load_only_same_origin_assets(anonymous: TestClient) -> None:
    r = anonymous.get("/docs")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    urls = _urls(r.text)
    assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert not re.search(r"https?://", r.text), "no absolute URL on the page"
    assert "<script>" not in r.text, "no inline script"
    for url in urls:
        asset = anonymous.get(url)
        assert asset.status_code == 200, url
    scripts = [u for u in urls if u.endswith(".js")]
    assert scripts and any("swagger-ui-bundle" in u for u in scripts)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    assert anonymous.get("/redoc").status_code == 404, "ReDoc loads from a CDN: not served"
    page = anonymous.get("/login")
    assert "script-src 'none'" in page.headers["content-security-policy"], "HR pages: no script"


def test_docs_off_in_production_unless_turned_on(production: Settings, service: Service) -> None:
    from recommender.api.app import create_app

    closed = TestClient(create_app(production, service))  # no lifespan: routes only
    assert closed.get("/docs").status_code == 404
    assert closed.get("/docs/assets/swagger-ui-bundle.js").status_code == 404
    opened = TestClient(create_app(production.model_copy(update={"api_docs": True}), service))
    assert opened.get("/docs").status_code == 200
    assert opened.get("/docs/assets/swagger-ui-bundle.js").status_code == 200


# ------------------------------------------------------------------------- 422 answers
def test_422_does_not_echo_an_unknown_label(client: TestClient, service: Service) -> None:
    """The probe's cold start with an unknown education label: the field and the rule."""
    label = "Sarjana Rahasia Xyz"
    body = {"profile": {**_profile(service), "education": label}}
    r = client.post("/v1/recommendations/programs", json=body)
    assert r.status_code == 422
    assert label not in r.text and label.lower() not in r.text.lower()
    issue = r.json()["detail"][0]
    assert issue["loc"] == ["body", "profile", "education"] and "education" in issue["msg"]
    assert set(issue) <= {"loc", "msg", "type"}


def test_422_does_not_echo_a_nip_used_as_a_key(client: TestClient, service: Service) -> None:
    """A NIP as a JSON key (an extra field, a competency id of ``levels``, an events body)
    is never in ``loc``: a placeholder stands for keys that are not declared fields."""
    for extra in ({NIP: 1}, {"levels": {NIP: 9}}, {"levels": {f"x{NIP}": "high"}}):
        body = {"profile": {**_profile(service), **extra}, "k": 5}
        r = client.post("/v1/recommendations/programs", json=body)
        assert r.status_code == 422 and NIP not in r.text, r.text
        locs = [issue["loc"] for issue in r.json()["detail"]]
        assert all(loc[:2] == ["body", "profile"] for loc in locs)
        assert any("<key>" in loc for loc in locs), locs
    for events in ({"events": [], NIP: 1}, {NIP: [{"event_id": NIP}]}, [{NIP: NIP}]):
        r = client.post("/v1/events", json=events)
        assert r.status_code < 500 and NIP not in r.text, r.text


def test_profile_errors_name_the_rule_not_the_value(client: TestClient, service: Service) -> None:
    """Ids the organisation does not know and years that contradict the date: the field and
    the rule, never what was sent."""
    cases = {
        "position_id": {"position_id": "NOPE-SECRET-POSITION"},
        "unit_id": {"unit_id": "NOPE-SECRET-UNIT"},
        "completed": {"completed": ["NOPE-SECRET-PROGRAMME"]},
        "birth_year": {"birth_year": 2019},
        "hire_year": {"hire_year": 2099},
    }
    for field, change in cases.items():
        r = client.post(
            "/v1/recommendations/programs", json={"profile": {**_profile(service), **change}}
        )
        assert r.status_code == 422, r.text
        detail = r.json()["detail"]
        assert detail.startswith(f"{field}: "), detail
        assert "NOPE" not in r.text and "2019" not in r.text and "2099" not in r.text, detail
