"""Applying online, in a browser on a phone-sized window (375×812): an organisation with a
complete profile logs in, opens the call, applies, fills every section (the budget shows
its totals and shares live, and the personnel-share error as it is typed), submits and
downloads its PDF, in at most 6 screens; staff return it with a reason; the organisation
fixes it and resubmits. Then, on a desktop window: two tabs editing at once (the later
save is refused, nothing overwritten) and a session that expires while typing (the text
is kept in the browser and saved after logging in again)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from grants.models import Call, Need, NeedStatus, Proposal, ProposalStatus
from grants.services import checks
from grants.services.proposals import STALE_MESSAGE
from tests.factories import PASSWORD, applicant, staff
from tests.grants.factories import eligible_org, make_call, proposal_at

from .conftest import login, screenshot

pytestmark = pytest.mark.e2e
P = ProposalStatus
PHONE = {"width": 375, "height": 812}


@pytest.fixture
def people(e2e_site):
    regions = e2e_site
    call = make_call(regions["fenghuang"])
    page = getattr(call, "page", None)  # the CMS makes each call's page (a draft): publish it
    if page is not None and not page.live:
        page.save_revision().publish()
        call = Call.objects.get(pk=call.pk)
    leader = applicant(username="haima_leader", name="刘芳")
    org, _ = eligible_org(
        regions["fenghuang"],
        leader=leader,
        name="鄂州市海马爸比亲子服务中心",
        contact_name="刘芳",
        contact_phone="13712345678",
        bank_name="中国农业银行鄂州分行",
        bank_account_name="鄂州市海马爸比亲子服务中心",
        bank_account="6228480123456789",
    )
    need = Need.objects.create(
        title="双职工家庭孩子放学后无人照看",
        description="凤凰社区双职工家庭多，孩子放学后到家长下班前无人照看。",
        affected="小学生",
        people_count=60,
        region=regions["fenghuang_c"],
        submitter_kind="committee",
        submitter_name="凤凰社区居委会",
        phone="13900000000",
        call=call,
        status=NeedStatus.ACCEPTED,
    )
    checker = staff(Role.CALL_MANAGER, regions["fenghuang"], username="fenghuang_mz", name="凤凰民政")
    return {"call": call, "org": org, "leader": leader, "need": need, "checker": checker, "regions": regions}


def _saved(page, section):
    page.wait_for_function(
        "s => { const el = document.querySelector('#section-' + s + ' [data-state]'); return el && el.textContent.startsWith('已保存'); }",
        arg=section,
        timeout=15000,
    )


def _fill_row(page, prefix, n, values):
    for col, value in values.items():
        sel = f"#id_{prefix}-{n}-{col}"
        if page.locator(sel).evaluate("el => el.tagName") == "SELECT":
            page.select_option(sel, value)
        else:
            page.fill(sel, value)


def _staff_return(browser, live_server, people, proposal):
    """退回修改 on the staff proposal page when it is there, else through the service."""
    from django.test import Client

    probe = Client()
    probe.force_login(people["checker"])
    if probe.get(reverse("grants_admin:proposal", args=[proposal.pk])).status_code != 200:
        checks.proposal_return(
            proposal=Proposal.objects.get(pk=proposal.pk),
            by=people["checker"],
            reason="请补充活动物料的测算依据。",
            deadline=timezone.localdate() + datetime.timedelta(days=5),
        )
        return
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
    admin = ctx.new_page()
    admin.set_default_timeout(15000)
    login(admin, live_server, "fenghuang_mz", PASSWORD, path="/admin/login/")
    admin.goto(live_server.url + reverse("grants_admin:proposal", args=[proposal.pk]))
    card = admin.locator("#action-return")
    card.locator("textarea").first.fill("请补充活动物料的测算依据。")
    card.locator("button:has-text('退回修改')").click()
    admin.wait_for_load_state()
    screenshot(admin, "grants-admin-returned")
    ctx.close()


def test_apply_on_a_phone_submit_download_return_and_resubmit(browser, live_server, people):
    call, org, need = people["call"], people["org"], people["need"]
    ctx = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.set_default_timeout(15000)
    screens = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and screens.append(frame.url))

    # 1. log in; the call page (the CMS one when published), then 立即申报
    start = reverse("grants:start", args=[call.pk])
    call_page = call.get_absolute_url()
    first = call_page if call_page != "/calls/" else start
    login(page, live_server, "haima_leader", PASSWORD, path=f"/accounts/login/?next={first}")
    if first != start:
        assert call.title in page.content()
        screenshot(page, "grants-call-page-375")
        page.click(f"a[href='{start}']")  # 立即申报
        page.wait_for_load_state()
    assert "符合本次征集的申报条件" in page.locator(f"#org-{org.pk}").inner_text()
    page.click("#start-button")
    page.wait_for_url("**/me/proposals/*/")
    proposal = Proposal.objects.get(organisation=org, call=call)

    # 2. the profile is there, never asked for
    profile = page.locator("#org-profile").inner_text()
    assert "鄂州市海马爸比亲子服务中心" in profile and "6228480123456789" in profile and org.uscc in profile

    # 3. every section; some saved by their button, the rest by autosave
    page.fill("#id_title", "海马爸比·四点半亲子课堂")
    page.select_option("#id_category", label="儿童青少年服务")
    page.check(f"#section-basic input[name=places][value='{people['regions']['fenghuang_c'].pk}']")
    page.fill("#id_beneficiaries_direct", "60")
    page.fill("#id_beneficiaries_indirect", "180")
    page.fill("#id_summary", "为双职工家庭的孩子提供放学后的课业辅导和亲子活动。")
    page.click("#section-basic button[type=submit]")
    _saved(page, "basic")

    page.fill("#id_need_analysis", "凤凰社区双职工家庭约200户，孩子放学后无人照看，居委会调研60名小学生有需求。")
    page.check(f"input[name=cited_needs][value='{need.pk}']")
    _saved(page, "needs")
    page.fill("#id_objectives", "一年内为60名儿童提供每周4次课后托管，家长满意度达到90%。")
    _saved(page, "objectives")
    page.fill("#id_approach", "招募大学生志愿者，在社区活动室开展课后托管和周末亲子活动。")
    month = f"{call.implement_from:%Y-%m}"
    _fill_row(
        page,
        "activities",
        0,
        {"name": "四点半课堂", "month": month, "content": "周一至周四课后托管", "sessions": "160"},
    )
    _saved(page, "plan")
    page.fill("#id_risks", "志愿者流动大：与两所高校签订长期合作协议。")
    _saved(page, "risks")
    page.select_option("#id_team-0-member", str(people["leader"].pk))
    _fill_row(page, "team", 0, {"role": "项目负责人", "qualifications": "中级社工师，8年儿童服务经验"})
    _saved(page, "team")
    _fill_row(page, "kpis", 0, {"indicator": "服务儿童", "target": "60", "unit": "人", "method": "签到表"})
    _saved(page, "kpis")

    # 4. the budget: live totals, shares and the personnel-share error while typing
    _fill_row(
        page,
        "budget",
        0,
        {"category": "personnel", "item": "项目社工补贴", "unit": "月", "quantity": "10", "unit_price": "4000"},
    )
    page.click("[data-add-row=budget]")
    _fill_row(
        page,
        "budget",
        1,
        {"category": "activity", "item": "课堂物料", "unit": "场", "quantity": "20", "unit_price": "1000"},
    )
    page.click("[data-add-row=budget]")
    _fill_row(
        page,
        "budget",
        2,
        {
            "category": "activity",
            "item": "场地与志愿者（自筹）",
            "quantity": "1",
            "unit_price": "40000",
            "source": "self",
        },
    )
    totals = page.locator("#budget-totals")
    assert "¥100,000.00" in totals.inner_text() and "60.00%" in totals.locator("[data-total=grant_share]").inner_text()
    assert "40.00%" in totals.locator("[data-total=personnel_share]").inner_text()
    live_error = page.locator("#field-personnel_share").inner_text()
    assert "人员费用占总预算的40.00%，超过本次征集规定的30.00%。" in live_error
    page.locator("#section-budget").scroll_into_view_if_needed()
    screenshot(page, "grants-edit-budget-375")
    page.fill("#id_budget-0-unit_price", "2000")
    assert page.locator("#field-personnel_share").inner_text().strip() == ""
    assert "25.00%" in totals.locator("[data-total=personnel_share]").inner_text()
    assert "50.00%" in totals.locator("[data-total=grant_share]").inner_text()
    _saved(page, "budget")
    proposal.refresh_from_db()
    assert (proposal.budget_total, proposal.grant_amount, proposal.personnel_amount) == (80000, 40000, 20000)
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "grants-edit-375")

    # 5. submit: confirmation, then the submitted page
    page.click("#submit-link")
    page.wait_for_url("**/submit/")
    assert "¥80,000.00" in page.locator("#confirm").inner_text()
    page.click("#confirm-submit")
    page.wait_for_url(f"**/me/proposals/{proposal.pk}/")
    assert "已提交" in page.locator("#proposal-status").inner_text()
    # log in → the call page → start → edit → confirm → submitted (5 without a published call page)
    assert len(screens) == (6 if first != start else 5) <= 6, screens
    screenshot(page, "grants-submitted-375")
    proposal.refresh_from_db()
    assert proposal.status == P.SUBMITTED and proposal.number

    # 6. its PDF
    href = page.locator("#pdf-link").get_attribute("href")
    response = page.request.get(live_server.url + href)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    # 7. staff return it with a reason; the organisation sees it, fixes and resubmits
    _staff_return(browser, live_server, people, proposal)
    page.goto(live_server.url + proposal.get_absolute_url())
    assert "请补充活动物料的测算依据。" in page.locator("#status-reason").inner_text()
    assert page.locator("#correction-deadline").count() == 1
    page.fill("#id_budget-1-note", "每场物料50元/人 × 20人")
    _saved(page, "budget")
    page.click("#submit-link")
    page.wait_for_url("**/submit/")
    page.click("#confirm-submit")
    page.wait_for_url(f"**/me/proposals/{proposal.pk}/")
    assert "已提交" in page.locator("#proposal-status").inner_text()
    proposal.refresh_from_db()
    assert proposal.status == P.SUBMITTED and proposal.versions.count() == 2
    assert proposal.versions.last().data["budget_lines"][1]["note"] == "每场物料50元/人 × 20人"
    ctx.close()


def test_two_tabs_and_an_expired_session_lose_nothing(browser, live_server, people):
    proposal = proposal_at(people["call"], P.DRAFT, org=people["org"], leader=people["leader"])
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1366, "height": 900})
    one = ctx.new_page()
    one.set_default_timeout(15000)
    url = live_server.url + proposal.get_absolute_url()
    login(one, live_server, "haima_leader", PASSWORD, path=f"/accounts/login/?next={proposal.get_absolute_url()}")
    assert one.url == url
    screenshot(one, "grants-edit-1366")

    # two tabs: the first saves, the second (behind) is refused and keeps its text
    two = ctx.new_page()
    two.set_default_timeout(15000)
    two.goto(url)
    one.fill("#id_objectives", "第一个窗口写的目标。")
    one.click("#section-objectives button[type=submit]")
    _saved(one, "objectives")
    two.fill("#id_objectives", "第二个窗口写的目标。")
    two.locator("#stale-banner").wait_for(state="visible")
    assert STALE_MESSAGE[:20] in two.locator("#stale-banner").inner_text()
    assert Proposal.objects.get(pk=proposal.pk).objectives == "第一个窗口写的目标。"
    kept = two.evaluate(f"localStorage.getItem('gy-proposal-{proposal.pk}-objectives')")
    assert "第二个窗口写的目标。" in kept
    assert two.locator("#id_objectives").input_value() == "第二个窗口写的目标。"
    screenshot(two, "grants-edit-stale-1366")
    two.close()

    # the session expires while typing: kept in the browser, the user is asked to log in
    ctx.clear_cookies()
    one.fill("#id_risks", "登录过期后写的风险与应对。")
    one.locator("#session-banner").wait_for(state="visible")
    assert "登录已过期" in one.locator("#session-banner").inner_text()
    assert "登录过期后写的风险与应对。" in one.evaluate(f"localStorage.getItem('gy-proposal-{proposal.pk}-risks')")
    assert Proposal.objects.get(pk=proposal.pk).risks != "登录过期后写的风险与应对。"
    one.click("#login-link")
    one.wait_for_url("**/accounts/login/**")
    one.fill("input[name=username]", "haima_leader")
    one.fill("input[name=password]", PASSWORD)
    one.click("button[type=submit]")
    one.wait_for_url(url)
    # back on the page: the kept text is put back and saved
    _saved(one, "risks")
    assert Proposal.objects.get(pk=proposal.pk).risks == "登录过期后写的风险与应对。"
    assert one.locator("#id_risks").input_value() == "登录过期后写的风险与应对。"
    assert "已恢复" in one.locator("#restore-banner").inner_text()
    # the other tab's refused text is offered, not forced
    assert "第二个窗口写的目标" not in Proposal.objects.get(pk=proposal.pk).objectives
    assert one.locator("#kept-banner").is_visible() and "项目目标" in one.locator("#kept-banner").inner_text()
    one.click("#drop-kept")
    assert one.evaluate(f"localStorage.getItem('gy-proposal-{proposal.pk}-objectives')") is None
    ctx.close()
