"""Review to approval, in a browser: a reviewer logs in to the admin, declares no conflict,
scores every criterion and submits (the other reviewers' scores are written through the
services); the call manager closes the round, reads the ranking and publishes the 公示;
a visitor files an objection on the public page; the manager dismisses it, and once the
window has closed approves; the applicant whose project was not funded reads the result
and the anonymised comments in the portal."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from grants.models import AssignmentStatus, Objection, Proposal, ProposalStatus, Publicity
from grants.services import review
from tests.factories import PASSWORD
from tests.grants.factories import call_in_review

from .conftest import login, screenshot

pytestmark = pytest.mark.e2e
A = AssignmentStatus
P = ProposalStatus


def _score_rest(rnd, skip):
    for a in rnd.assignments.select_related("expert__user").exclude(pk=skip.pk):
        review.declare(assignment=a, by=a.expert.user, conflict=False)
        a.refresh_from_db()
        points = {c["key"]: (Decimal(str(c["weight"])) * Decimal("0.7")).quantize(Decimal("0.1")) for c in rnd.rubric()}
        review.submit_scores(assignment=a, by=a.expert.user, points=points, comment="项目设计较完整，预算需细化。")


def test_review_publicity_objection_and_approval(e2e_site, page, live_server):
    call, proposals, experts, manager = call_in_review(
        2, 4, panel_size=2, pool_total=Decimal("60000"), grant_max=Decimal("60000")
    )
    for u in [manager, *[e.user for e in experts]]:
        u.set_password(PASSWORD)
        u.save()
    rnd = review.draw_panels(call=call, by=manager)
    mine = rnd.assignments.select_related("expert__user", "proposal").order_by("pk").first()
    reviewer = mine.expert.user
    _score_rest(rnd, mine)

    # the reviewer: queue → declare → score → submit
    login(page, live_server, reviewer.username, PASSWORD, path="/admin/login/")
    page.goto(live_server.url + "/admin/grants/reviews/")
    assert mine.proposal.title in page.inner_text("main")
    page.goto(live_server.url + f"/admin/grants/reviews/{mine.pk}/")
    with page.expect_navigation():
        page.click("text=本人与该项目无利益冲突，开始评分")
    for c in rnd.rubric():
        page.fill(f"input[name=points_{c['key']}]", str(Decimal(str(c["weight"])) - 1))
    page.fill("textarea[name=comment]", "需求调研扎实，活动安排与目标对应。")
    page.on("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.click("button[value=submit]")
    mine.refresh_from_db()
    assert mine.status == A.SUBMITTED and mine.total == Decimal("95.00")
    screenshot(page, "review-submitted")

    # the manager: close the round, read the ranking, publish the 公示
    page.context.clear_cookies()
    login(page, live_server, manager.username, PASSWORD, path="/admin/login/")
    page.goto(live_server.url + f"/admin/grants/calls/{call.pk}/review/")
    with page.expect_navigation():
        page.click("#action-close-review button[type=submit]")
    assert "专家评审已结束" in page.inner_text("body")
    page.goto(live_server.url + f"/admin/grants/calls/{call.pk}/ranking/")
    assert "评委1" in page.inner_text("main")
    screenshot(page, "review-ranking")
    page.goto(live_server.url + f"/admin/grants/calls/{call.pk}/review/")
    with page.expect_navigation():
        page.click("#action-publish-shortlist button[type=submit]")
    screenshot(page, "review-after-publish")
    publicity = Publicity.objects.get(call=call)
    funded = Proposal.objects.get(call=call, status=P.PUBLICISED)
    loser = Proposal.objects.get(call=call, status=P.REVIEWED)

    # a visitor files an objection on the public page
    page.context.clear_cookies()
    page.goto(live_server.url + publicity.get_absolute_url())
    assert funded.title in page.inner_text("main")
    page.fill("input[name=name]", "王先生")
    page.fill("input[name=contact]", "13812345678")
    page.fill("textarea[name=reason]", "该项目的活动场地与另一个已资助项目重复，请核实。")
    with page.expect_navigation():
        page.click("form button[type=submit]")
    assert "异议编号" in page.inner_text("body")
    objection = Objection.objects.get(publicity=publicity)
    assert objection.contact == "13812345678"
    assert "13812345678" not in page.content()

    # the manager handles it and, after the window, approves
    login(page, live_server, manager.username, PASSWORD, path="/admin/login/")
    page.goto(live_server.url + f"/admin/grants/objections/{objection.pk}/")
    page.fill("textarea[name$=reason]", "经核实，两个项目的场地在不同时段使用，不存在重复。")
    with page.expect_navigation():
        page.click("button[value=dismiss]")
    objection.refresh_from_db()
    assert objection.status == "dismissed"
    Publicity.objects.filter(pk=publicity.pk).update(closes_on=timezone.localdate() - datetime.timedelta(days=1))
    page.goto(live_server.url + f"/admin/grants/calls/{call.pk}/review/")
    page.on("dialog", lambda d: d.accept())
    with page.expect_navigation():
        page.click("#action-approve-call button[type=submit]")
    funded.refresh_from_db()
    loser.refresh_from_db()
    assert (funded.status, loser.status) == (P.APPROVED, P.NOT_FUNDED)

    # the applicant that was not funded reads why
    page.context.clear_cookies()
    leader = loser.organisation.memberships.get().user
    leader.set_password(PASSWORD)
    leader.save()
    login(page, live_server, leader.username, PASSWORD)
    page.goto(live_server.url + f"/me/proposals/{loser.pk}/")
    text = page.inner_text("#review-result")
    assert "未获立项" in text and "评委" in text and "项目设计较完整" in text
    for e in experts:
        assert e.name not in text
    screenshot(page, "review-result-applicant")
