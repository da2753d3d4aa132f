"""The HR pages in a real browser: sign in, approve and reject suggestions, read the needs
report, download its XLSX and check it against the page, and stay inside one's units."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from recommender.service import Service
from tests.api.conftest import REVIEWER_PASSWORD

pytestmark = pytest.mark.browser


def sign_in(page: Any, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def number(text: str) -> int:
    """ "1.234.567" (Indonesian grouping) -> 1234567."""
    return int(re.sub(r"[^\d]", "", text))


def test_reviewer_approves_and_rejects(
    page: Any, live_url: str, hr_users: dict[str, str], artifacts: Path
) -> None:
    sign_in(page, live_url, hr_users["reviewer"], REVIEWER_PASSWORD)
    assert page.url.endswith(f"/units/{hr_users['unit_id']}"), "one unit: straight to it"
    unit_page = page.url
    links = page.locator("#staff tbody tr a")
    assert links.count() > 0
    # the first employee of the unit whose chart shows an assessed level (not everyone has one)
    for i in range(min(links.count(), 15)):
        if i:
            page.goto(unit_page)
        page.locator("#staff tbody tr a").nth(i).click()
        page.wait_for_load_state()
        assert "/employees/e_" in page.url
        chart = page.locator("#gap-chart")
        assert chart.is_visible()
        assert page.locator("#gap-chart g.bar").count() > 0
        if page.locator("#gap-chart rect.level").count() > 0:
            break
    assert page.locator("#gap-chart rect.level").count() > 0, "no assessed level in 15 people"

    items = page.locator("#programs li.item")
    assert items.count() >= 3
    first, second = items.nth(0), items.nth(1)
    first.locator("button.approve").click()
    page.wait_for_load_state()
    assert page.locator(".notice").is_visible()
    assert page.locator("#programs li.item").nth(0).locator(".decided-approve").is_visible()

    second = page.locator("#programs li.item").nth(1)
    second.locator("input[name=reason]").fill("Sudah mengikuti program setara tahun lalu")
    second.locator("button.reject").click()
    page.wait_for_load_state()
    rejected = page.locator("#programs li.item").nth(1).locator(".decided-reject")
    assert "Sudah mengikuti program setara" in rejected.inner_text()
    history = page.locator("#history tbody tr")
    assert history.count() >= 2
    page.screenshot(path=str(artifacts / "employee.png"), full_page=True)


def test_needs_report_and_xlsx_export_agree(
    page: Any, live_url: str, hr_users: dict[str, str], artifacts: Path, tmp_path: Path
) -> None:
    sign_in(page, live_url, hr_users["reviewer"], REVIEWER_PASSWORD)
    page.goto(f"{live_url}/units/{hr_users['unit_id']}/needs")
    heat = page.locator("#heatmap td[class^=heat-]:not(.heat-0)")
    assert heat.count() > 0, "the heatmap shows gaps"
    assert page.locator("#cohorts tbody tr").count() > 0
    page.screenshot(path=str(artifacts / "needs-report.png"), full_page=True)

    total_cost = number(page.inner_text("#total-cost"))
    participants = number(page.inner_text("#total-participants"))
    headcount = number(page.inner_text("#headcount"))
    with page.expect_download() as info:
        page.click("#export-xlsx")
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.suffix == ".xlsx"

    book = openpyxl.load_workbook(saved)
    summary = {row[0]: row[1] for row in book[book.sheetnames[0]].iter_rows(values_only=True)}
    assert headcount in summary.values()
    cohorts = list(book[book.sheetnames[1]].iter_rows(values_only=True))
    total_row = [v for v in cohorts[-1] if isinstance(v, int | float)]
    assert participants in total_row
    assert total_cost in [int(v) for v in total_row]


def test_reviewer_cannot_open_another_units_employee(
    page: Any, live_url: str, hr_users: dict[str, str], service: Service
) -> None:
    sign_in(page, live_url, hr_users["reviewer"], REVIEWER_PASSWORD)
    people = service.world.snap.people
    stranger = str(people.index[people["unit_id"] == hr_users["other_unit"]][0])
    response = page.goto(f"{live_url}/employees/{stranger}")
    assert response.status == 404
    assert page.locator(".error").is_visible()
    response = page.goto(f"{live_url}/units/{hr_users['other_unit']}")
    assert response.status == 404
    assert page.locator(f"a[href='/units/{hr_users['other_unit']}']").count() == 0


def test_switch_to_english(page: Any, live_url: str, hr_users: dict[str, str]) -> None:
    sign_in(page, live_url, hr_users["reviewer"], REVIEWER_PASSWORD)
    page.click("a.lang")
    page.wait_for_load_state()
    assert page.locator("nav").inner_text().startswith("Units")
    page.click("a.lang")
    page.wait_for_load_state()
    assert "Unit kerja" in page.locator("nav").inner_text()
