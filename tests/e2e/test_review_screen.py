"""The reviewer's scoring screen in a browser on a 1366×900 laptop window: the reviewer
logs in to the admin, opens their queue, declares no conflict, scores with the total
following what is typed, saves a draft and submits. Nothing scrolls sideways and the
rubric stays in view while the proposal scrolls; in the blind call the organisation's name
is nowhere on the page."""

import pytest
from django.urls import reverse

from core.workflow import run_transition
from grants.models import Assignment, AssignmentStatus, CallStatus, ProposalStatus
from grants.services import review
from tests.factories import PASSWORD
from tests.grants.factories import eligible_org, make_call, make_expert, proposal_at

from .conftest import login, screenshot

pytestmark = pytest.mark.e2e
A = AssignmentStatus
LAPTOP = {"width": 1366, "height": 900}
ORG_NAME = "鄂州市小候鸟青少年服务中心"


@pytest.fixture
def assignment(e2e_site):
    from accounts.roles import Role
    from tests.factories import staff

    call = make_call(
        status=CallStatus.OPEN, blind_review=True, panel_size=2, title="凤凰街道2026年公益创投（匿名评审）"
    )
    manager = staff(Role.CALL_MANAGER, call.region)
    org, leader = eligible_org(name=ORG_NAME)
    proposal = proposal_at(
        call,
        ProposalStatus.ELIGIBLE,
        org=org,
        leader=leader,
        checker=manager,
        title="小候鸟·暑期留守儿童托管与陪伴计划",
        summary=f"{ORG_NAME}在凤凰街道为留守和双职工家庭儿童提供暑期托管、课业辅导和安全教育。" * 2,
        need_analysis="凤凰社区登记的留守儿童和双职工家庭子女约80名，暑期白天无人照看，"
        "社区走访和问卷显示72%的家长希望有托管服务。" * 3,
        objectives="暑期8周为60名儿童提供托管服务，家长满意度达到90%以上。",
        approach="招募大学生志愿者，每周一至周五开展课业辅导、阅读、手工和安全教育活动。" * 3,
    )
    run_transition(call, "close_applications", by=None)
    run_transition(call, "start_review", by=None)
    experts = [make_expert("陈评审"), make_expert("周评审"), make_expert("吴评审")]
    review.draw_panels(call=call, by=manager, seed="e2e")
    a = Assignment.objects.filter(proposal=proposal).order_by("pk").first()
    return a, experts


def _no_sideways_scroll(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= LAPTOP["width"], f"the page is {width}px wide"
    # Wagtail's <main> scrolls the content and hides what overflows it sideways: nothing may be cut off
    main = page.evaluate(
        "(() => { const m = document.querySelector('#main'); return [m.scrollWidth, m.clientWidth]; })()"
    )
    assert main[0] <= main[1], f"the content is {main[0]}px wide in {main[1]}px"


def test_a_reviewer_declares_scores_saves_and_submits_on_a_laptop(browser, live_server, assignment):
    a, _ = assignment
    ctx = browser.new_context(locale="zh-CN", viewport=LAPTOP)
    page = ctx.new_page()
    page.set_default_timeout(15000)
    login(page, live_server, a.expert.user.username, PASSWORD, path="/admin/login/")

    page.goto(live_server.url + reverse("grants_admin:reviews"))
    assert "已提交 0 / 共 1" in page.locator("#review-progress").inner_text()
    _no_sideways_scroll(page)
    screenshot(page, "review-queue-1366")
    page.click("text=小候鸟·暑期留守儿童托管与陪伴计划")
    page.wait_for_load_state()
    assert "利益冲突声明" in page.content() and "需求分析" not in page.content()
    screenshot(page, "review-declaration-1366")
    page.click("button:has-text('无利益冲突，开始评分')")
    page.wait_for_load_state()

    rubric = a.round.rubric()
    total = page.locator("[data-total]")
    assert total.inner_text() == "0.0"
    page.fill(f"#id_points_{rubric[0]['key']}", "16.5")
    page.fill(f"#id_points_{rubric[1]['key']}", "20")
    assert total.inner_text() == "36.5"
    page.click(f"#criterion-{rubric[0]['key']} summary")
    page.fill(f"#id_comment_{rubric[0]['key']}", "需求调研充分，有问卷数据。")
    _no_sideways_scroll(page)
    html = page.content()
    assert ORG_NAME not in html and "申报组织" in html
    screenshot(page, "review-scoring-1366")

    # the rubric stays in view while the proposal scrolls (Wagtail's <main> is what scrolls)
    before = page.locator(".gy-review__rubric").bounding_box()
    page.evaluate("document.querySelector('#main').scrollTo(0, 1e6)")
    assert page.evaluate("document.querySelector('#main').scrollTop") > 500
    box = page.locator(".gy-review__rubric").bounding_box()
    assert box is not None and 0 <= box["y"] <= before["y"] and box["y"] + box["height"] <= LAPTOP["height"]
    assert page.locator("button:has-text('提交评分')").is_visible()
    page.evaluate("document.querySelector('#main').scrollTo(0, 0)")

    page.click("button:has-text('保存草稿')")
    page.wait_for_load_state()
    assert "草稿已保存" in page.content()
    assert page.locator(f"#id_points_{rubric[0]['key']}").input_value() == "16.5"
    assert Assignment.objects.get(pk=a.pk).points[rubric[0]["key"]] == "16.5"

    for c in rubric[2:]:
        page.fill(f"#id_points_{c['key']}", "12")
    page.fill("#id_comment", "项目设计完整，预算合理。")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('提交评分')")
    page.wait_for_load_state()
    assert "已提交评分" in page.content() and "我的评分（已提交）" in page.content()
    _no_sideways_scroll(page)
    screenshot(page, "review-submitted-1366")
    a.refresh_from_db()
    assert a.status == A.SUBMITTED and str(a.total) == "72.50"
    ctx.close()
