"""The next-position answer carries the verdict with a horizon (issue 17, part 3): eligible now,
the first day of eligibility, the pending conditions with their dates, the blocked ones."""

from __future__ import annotations

import re
from datetime import date

from fastapi.testclient import TestClient

from recommender.careers.horizon import ACCRUING, FIXED
from recommender.config import Settings
from recommender.service import Service
from tests.api.conftest import REVIEWER_PASSWORD
from tests.api.test_pages import sign_in, staff_of


def test_positions_carry_the_horizon(client: TestClient, nips: list[str]) -> None:
    seen_pending = seen_blocked = 0
    for nip in nips[:8]:
        r = client.get(f"/v1/employees/{nip}/recommendations/positions", params={"k": 10})
        assert r.status_code == 200, r.text
        for item in r.json()["items"]:
            assert item["eligible_now"] == item["eligible"]
            assert item["horizon_months"] == 12
            if item["eligible_now"]:
                assert item["pending"] == [] and item["blocked"] == []
                assert item["eligible_within_horizon"]
                continue
            if item["eligible_by"] is None:
                # a condition that does not accrue (or cannot be projected) fails
                assert item["blocked"] and not item["eligible_within_horizon"]
                assert set(item["blocked"]) <= {*FIXED, *ACCRUING, "no_rule"}
                seen_blocked += 1
            else:
                by = date.fromisoformat(item["eligible_by"])
                assert item["pending"] and item["blocked"] == []
                # the date of eligibility is the last of the pending conditions' dates
                assert by == max(date.fromisoformat(p["met_on"]) for p in item["pending"])
                seen_pending += 1
            for p in item["pending"]:
                assert p["condition"] in ACCRUING
    assert seen_blocked > 0


def test_bad_parameters_of_positions_are_4xx_not_500(client: TestClient, nips: list[str]) -> None:
    url = f"/v1/employees/{nips[3]}/recommendations/positions"
    for params in ({"k": 0}, {"k": "many"}, {"k": 21}, {"k": -1}):
        r = client.get(url, params=params)
        assert 400 <= r.status_code < 500, (params, r.status_code, r.text)


def test_the_employee_page_shows_the_horizon(
    api_settings: Settings, service: Service, hr_users: dict[str, str]
) -> None:
    from recommender.api.app import create_app

    with TestClient(create_app(api_settings, service), follow_redirects=False) as web:
        sign_in(web, hr_users["reviewer"], REVIEWER_PASSWORD)
        web.get("/language?lang=en&next=/units")
        shown = 0
        for employee in staff_of(service, hr_users["unit_id"])[:6]:
            page = web.get(f"/employees/{employee}")
            assert page.status_code == 200
            lines = re.findall(r'<p class="horizon">([^<]*)</p>', page.text)
            for line in lines:
                assert line.startswith(("Eligible from ", "Not eligible (time alone")), line
            shown += len(lines)
        assert shown > 0
