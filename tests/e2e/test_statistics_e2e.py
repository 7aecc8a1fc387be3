"""数据统计 in Chromium at 375 px: a visitor opens /stats/, every chart is drawn (ECharts
puts an <svg> in its container), nothing goes wrong in the console, and each chart's table
is there with the same numbers."""

import pytest
from django.utils import timezone

from grants.models import Proposal, ProposalStatus, Tranche, TrancheStatus
from tests.e2e.conftest import console_problems, screenshot
from tests.grants.factories import signed_projects
from tests.incubator.factories import IncubationBaseFactory, incubation_at

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_visitor_on_a_phone_sees_the_charts_drawn_with_their_tables(phone, live_server, e2e_site):
    _, projects, _, _ = signed_projects(2)
    closed = projects[1]
    Tranche.objects.filter(proposal=closed).update(status=TrancheStatus.RELEASED, paid_on=timezone.localdate())
    Proposal.objects.filter(pk=closed.pk).update(status=ProposalStatus.CLOSED, final_grade="优秀")
    incubation_at(IncubationBaseFactory(region=e2e_site["fenghuang"]), status="in_incubation")

    problems = console_problems(phone)
    phone.goto(live_server.url + "/stats/")
    assert phone.locator("h1").inner_text() == "数据统计"

    charts = phone.locator("[data-chart]")
    assert charts.count() == 8  # years, levels, streets, categories, types, stages, grades, incubation
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        chart.locator("svg").first.wait_for()
        assert chart.get_attribute("role") == "img" and chart.get_attribute("aria-label")
        box = chart.bounding_box()
        assert box["width"] >= 300 and box["height"] >= 200, box  # not squeezed on a phone
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    # the text of the charts is real text in the page's fonts (SVG), in Chinese
    assert "资助金额" in phone.locator("#chart-years svg").inner_html()

    assert phone.locator("table.data-table").count() == 9  # a table per chart and the bases' levels
    years = phone.locator("#table-years")
    assert "合计" in years.inner_text() and "资助金额（元）" in years.inner_text()
    assert "优秀" in phone.locator("#table-grades").inner_text()
    assert phone.locator('a[href="/stats/years/csv/"]').count() == 1
    # nothing is wider than the phone: wide tables scroll inside their box
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(phone, "statistics-375")
    assert not problems, problems
