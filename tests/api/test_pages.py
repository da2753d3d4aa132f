"""The HR pages through the real app (TestClient): sign-in, CSRF, unit boundaries, decisions
stored with reviewer, model version and request id, needs report and its exports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from recommender.config import Settings
from recommender.service import Service
from recommender.store.models import RecommendationLog, Review
from tests.api.conftest import ADMIN_PASSWORD, REVIEWER_PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
REQUEST = re.compile(r'name="request_id" value="([0-9a-f]+)"')


@pytest.fixture
def web(api_settings: Settings, service: Service, hr_users: dict[str, str]) -> Iterator[TestClient]:
    """A browser-like client (cookies kept, redirects not followed)."""
    from recommender.api.app import create_app

    with TestClient(create_app(api_settings, service), follow_redirects=False) as c:
        yield c


def sign_in(client: TestClient, username: str, password: str) -> None:
    page = client.get("/login")
    token = CSRF.search(page.text)
    assert token, "the sign-in form carries a CSRF token"
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
    )
    assert r.status_code == 303, r.text


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found
    return found.group(1)


def staff_of(service: Service, unit: str) -> list[str]:
    people = service.world.snap.people
    return sorted(str(e) for e in people.index[people["unit_id"] == unit])


def test_pages_need_a_session(web: TestClient) -> None:
    for path in ("/", "/units", "/queue", "/models"):
        r = web.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path


def test_sign_in_needs_the_form_token(web: TestClient, hr_users: dict[str, str]) -> None:
    web.get("/login")
    r = web.post(
        "/login",
        data={"username": hr_users["admin"], "password": ADMIN_PASSWORD, "csrf_token": "x"},
    )
    assert r.status_code == 403
    assert "jenjang_session" not in r.cookies


def test_wrong_password_is_refused_without_saying_which_part(
    web: TestClient, hr_users: dict[str, str]
) -> None:
    for name in (hr_users["admin"], "nobody.here"):
        token = csrf_of(web.get("/login").text)
        r = web.post(
            "/login", data={"username": name, "password": "wrong-password", "csrf_token": token}
        )
        assert r.status_code == 401
        assert "Nama pengguna atau kata sandi salah" in r.text


def test_repeated_failures_lock_the_account(
    api_settings: Settings,
    service: Service,
    store,
    web: TestClient,  # type: ignore[no-untyped-def]
) -> None:
    from recommender.store import users

    with store.begin() as session:
        if users.get_user(session, "lock.me") is None:
            users.create_user(
                session, username="lock.me", password="right-password", role="admin", units=None
            )
    codes = []
    for _ in range(6):
        token = csrf_of(web.get("/login").text)
        r = web.post(
            "/login", data={"username": "lock.me", "password": "bad-guess!", "csrf_token": token}
        )
        codes.append(r.status_code)
    assert codes[:4] == [401] * 4 and codes[-1] == 429
    token = csrf_of(web.get("/login").text)
    r = web.post(
        "/login", data={"username": "lock.me", "password": "right-password", "csrf_token": token}
    )
    assert r.status_code == 429, "locked even with the right password"


def test_html_pages_carry_security_headers(web: TestClient, hr_users: dict[str, str]) -> None:
    sign_in(web, hr_users["admin"], ADMIN_PASSWORD)
    r = web.get("/units")
    assert r.status_code == 200
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    cookie = web.cookies.get("jenjang_session")
    assert cookie


def test_reviewer_sees_only_own_units(
    web: TestClient, service: Service, hr_users: dict[str, str]
) -> None:
    sign_in(web, hr_users["reviewer"], REVIEWER_PASSWORD)
    own, other = hr_users["unit_id"], hr_users["other_unit"]
    assert web.get(f"/units/{own}").status_code == 200
    assert web.get(f"/units/{other}").status_code == 404
    assert web.get(f"/units/{other}/needs").status_code == 404
    assert web.get(f"/units/{other}/needs.xlsx").status_code == 404
    stranger = staff_of(service, other)[0]
    r = web.get(f"/employees/{stranger}")
    assert r.status_code == 404 and stranger not in r.text
    assert web.get("/employees/e_doesnotexist").status_code == 404
    listed = web.get("/units").text
    assert f"/units/{own}" in listed and f'/units/{other}"' not in listed


def test_unit_page_lists_staff_with_jp_readiness_and_pending(
    web: TestClient, service: Service, hr_users: dict[str, str]
) -> None:
    sign_in(web, hr_users["reviewer"], REVIEWER_PASSWORD)
    unit = hr_users["unit_id"]
    page = web.get(f"/units/{unit}").text
    for employee in staff_of(service, unit):
        assert f"/employees/{employee}" in page
    assert "/ 20" in page and "%" in page


def test_decisions_are_stored_with_reviewer_model_version_and_request(
    web: TestClient,
    service: Service,
    store,
    hr_users: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    sign_in(web, hr_users["reviewer"], REVIEWER_PASSWORD)
    employee = staff_of(service, hr_users["unit_id"])[1]
    page = web.get(f"/employees/{employee}")
    assert page.status_code == 200
    assert 'id="gap-chart"' in page.text
    token = csrf_of(page.text)
    request_id = REQUEST.search(page.text).group(1)  # type: ignore[union-attr]
    programs = re.findall(r'id="program-([^"]+)"', page.text)
    assert len(programs) >= 3
    form = {"csrf_token": token, "request_id": request_id, "item_kind": "program"}

    r = web.post(
        f"/employees/{employee}/reviews",
        data={**form, "item_id": programs[0], "decision": "approve"},
    )
    assert r.status_code == 303 and "saved=1" in r.headers["location"]
    r = web.post(
        f"/employees/{employee}/reviews",
        data={**form, "item_id": programs[1], "decision": "reject", "reason": ""},
    )
    assert "error=" in r.headers["location"], "a rejection needs a reason"
    r = web.post(
        f"/employees/{employee}/reviews",
        data={**form, "item_id": programs[1], "decision": "reject", "reason": "sudah setara"},
    )
    assert "saved=1" in r.headers["location"]
    r = web.post(
        f"/employees/{employee}/reviews",
        data={
            **form,
            "item_id": programs[2],
            "decision": "replace",
            "reason": "lebih cocok",
            "replacement_id": programs[0],
        },
    )
    assert "saved=1" in r.headers["location"]
    # not in the list that was shown, or a made-up request: refused, nothing stored
    r = web.post(
        f"/employees/{employee}/reviews", data={**form, "item_id": "NOPE", "decision": "approve"}
    )
    assert "error=" in r.headers["location"]
    r = web.post(
        f"/employees/{employee}/reviews",
        data={**form, "request_id": "f" * 32, "item_id": programs[0], "decision": "approve"},
    )
    assert "error=" in r.headers["location"]
    # without the CSRF token: 403
    r = web.post(
        f"/employees/{employee}/reviews",
        data={**form, "csrf_token": "forged", "item_id": programs[0], "decision": "approve"},
    )
    assert r.status_code == 403

    with store() as session:
        rows = session.scalars(select(Review).where(Review.employee_id == employee)).all()
        logged = session.get(RecommendationLog, request_id)
    assert logged is not None and logged.endpoint == "review:programs"
    assert [(r.item_id, r.decision) for r in rows] == [
        (programs[0], "approve"),
        (programs[1], "reject"),
        (programs[2], "replace"),
    ]
    for row in rows:
        assert row.reviewer == hr_users["reviewer"]
        assert row.request_id == request_id
        assert row.model_version == logged.model_version == "1"
    assert rows[2].replacement_id == programs[0]
    assert all(isinstance(r.model_version, str) and r.model_version != "None" for r in rows)
    shown = web.get(f"/employees/{employee}").text
    assert "sudah setara" in shown and "Ditolak" in shown


def test_reviewer_cannot_decide_for_another_unit(
    web: TestClient, service: Service, hr_users: dict[str, str]
) -> None:
    sign_in(web, hr_users["reviewer"], REVIEWER_PASSWORD)
    token = csrf_of(web.get(f"/units/{hr_users['unit_id']}").text)
    stranger = staff_of(service, hr_users["other_unit"])[0]
    r = web.post(
        f"/employees/{stranger}/reviews",
        data={
            "csrf_token": token,
            "request_id": "a" * 32,
            "item_kind": "program",
            "item_id": "X",
            "decision": "approve",
        },
    )
    assert r.status_code == 404


def test_needs_report_and_exports_agree(web: TestClient, hr_users: dict[str, str]) -> None:
    sign_in(web, hr_users["reviewer"], REVIEWER_PASSWORD)
    unit = hr_users["unit_id"]
    page = web.get(f"/units/{unit}/needs?budget=50000000")
    assert page.status_code == 200
    assert 'id="heatmap"' in page.text and "heat-" in page.text
    total_cost = re.search(r'id="total-cost">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]
    participants = re.search(r'id="total-participants">([^<]+)<', page.text).group(1)  # type: ignore[union-attr]

    x = web.get(f"/units/{unit}/needs.xlsx?budget=50000000")
    assert x.status_code == 200 and "attachment" in x.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(x.content))
    cohorts = book[book.sheetnames[1]]
    last = [c.value for c in list(cohorts.iter_rows())[-1]]
    numbers = [v for v in last if isinstance(v, int | float)]
    assert int(participants) in numbers
    assert int(total_cost.replace(".", "")) in [int(v) for v in numbers]

    c = web.get(f"/units/{unit}/needs.csv?budget=50000000")
    assert c.status_code == 200
    rows = list(csv.reader(io.StringIO(c.content.decode("utf-8-sig"))))
    assert any(str(int(total_cost.replace(".", ""))) in row for row in rows)


def test_queue_lists_pending_people(web: TestClient, hr_users: dict[str, str]) -> None:
    sign_in(web, hr_users["reviewer"], REVIEWER_PASSWORD)
    page = web.get("/queue")
    assert page.status_code == 200
    assert 'id="queue"' in page.text and "/employees/e_" in page.text


def test_language_switch_and_model_page(web: TestClient, hr_users: dict[str, str]) -> None:
    sign_in(web, hr_users["admin"], ADMIN_PASSWORD)
    assert "Unit kerja" in web.get("/units").text
    r = web.get("/language?lang=en&next=/units")
    assert r.status_code == 303 and r.headers["location"] == "/units"
    assert "Units" in web.get("/units").text
    page = web.get("/models")
    assert page.status_code == 200 and "jenjang-programs" in page.text
    assert web.get("/language?lang=en&next=//evil.example").headers["location"] == "/"


def test_logout_ends_the_session(web: TestClient, hr_users: dict[str, str]) -> None:
    sign_in(web, hr_users["admin"], ADMIN_PASSWORD)
    token = csrf_of(web.get("/units").text)
    r = web.post("/logout", data={"csrf_token": token})
    assert r.status_code == 303
    assert web.get("/units").status_code == 303


def test_employee_page_in_english(
    web: TestClient, service: Service, hr_users: dict[str, str]
) -> None:
    sign_in(web, hr_users["reviewer"], REVIEWER_PASSWORD)
    web.get("/language?lang=en&next=/units")
    for employee in staff_of(service, hr_users["unit_id"])[:3]:
        page = web.get(f"/employees/{employee}")
        assert page.status_code == 200, page.text[:300]
        assert "Recommended programs" in page.text and ">nan<" not in page.text


def test_bad_page_input_is_a_4xx_page_never_a_500(
    web: TestClient, service: Service, hr_users: dict[str, str]
) -> None:
    sign_in(web, hr_users["reviewer"], REVIEWER_PASSWORD)
    unit = hr_users["unit_id"]
    assert web.get(f"/units/{unit}/needs?budget=").status_code == 200, "empty = the default"
    for budget in ("abc", "-5", "1e99", "nan"):
        r = web.get(f"/units/{unit}/needs?budget={budget}")
        assert r.status_code == 400 and "text/html" in r.headers["content-type"], budget
    assert web.get("/queue?unit=").status_code == 200, "no unit chosen = all of mine"
    employee = staff_of(service, unit)[0]
    r = web.get(f"/employees/{employee}?saved=1&error=Hubungi%20saya")
    assert r.status_code == 200 and "Hubungi saya" not in r.text, "no reflected text"
    page = web.get(f"/employees/{employee}").text
    form = {
        "csrf_token": csrf_of(page),
        "request_id": REQUEST.search(page).group(1),  # type: ignore[union-attr]
        "item_kind": "program",
        "item_id": re.findall(r'id="program-([^"]+)"', page)[0],
        "decision": "reject",
    }
    r = web.post(f"/employees/{employee}/reviews", data={**form, "reason": "a\x00b"})
    assert r.status_code == 303 and "error=text" in r.headers["location"]
    r = web.post(f"/employees/{employee}/reviews", data={**form, "reason": "x" * 2000})
    assert r.status_code == 422 and "text/html" in r.headers["content-type"]
    assert "x" * 50 not in r.text, "the value is not echoed"


def test_unknown_names_lock_like_known_ones(web: TestClient) -> None:
    codes = []
    for _ in range(6):
        token = csrf_of(web.get("/login").text)
        r = web.post(
            "/login",
            data={"username": "no.such.user", "password": "guess-123", "csrf_token": token},
        )
        codes.append(r.status_code)
    assert codes[:5] == [401] * 5 and codes[5] == 429, "a lock-out does not reveal a name"
