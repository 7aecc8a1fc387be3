"""The applicant's proposal pages (/me/proposals/), from the outside: what an organisation
sees before typing, what the page shows prefilled, every rule's message at its field,
submission (open, closed, returned, resubmitted), who may see and change what, the /me/
panel, attachments, and the edit page's query count as the tables grow."""

import datetime
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from core.workflow import run_transition
from grants.models import Proposal, ProposalAttachment, ProposalStatus
from grants.services import proposals as services
from orgs.models import EvaluationGrade, ListEntry, Membership, OrgType
from tests.factories import applicant, pdf_upload
from tests.grants.factories import budget, eligible_org, make_call, proposal_at
from tests.html_forms import read_form
from tests.queries import page_queries

P = ProposalStatus
pytestmark = pytest.mark.django_db


# ---- reading the page -------------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _ById(HTMLParser):
    def __init__(self, wanted):
        super().__init__(convert_charrefs=True)
        self.wanted, self.depth, self.parts, self.found = wanted, 0, [], False

    def handle_starttag(self, tag, attrs):
        if tag in VOID:
            return
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.wanted and not self.found:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if tag not in VOID and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def within(html: str, element_id: str) -> str:
    """The text inside the element with `element_id` ("" if there is none)."""
    p = _ById(element_id)
    p.feed(html)
    return "".join(p.parts) if p.found else ""


def edit_url(proposal) -> str:
    return reverse("grants:proposal", args=[proposal.pk])


def save_url(proposal, section) -> str:
    return reverse("grants:save", args=[proposal.pk, section])


def page(client, proposal, **params) -> str:
    response = client.get(edit_url(proposal), params)
    assert response.status_code == 200
    return response.content.decode()


def rows_post(prefix: str, rows: list[dict], revision: int, initial: int = 0) -> dict:
    """What a browser posts for a table section holding `rows`."""
    data = {
        "revision": str(revision),
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "100",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = "" if value is None else str(value)
    return data


def post_budget(client, proposal, rows):
    proposal.refresh_from_db()
    return client.post(save_url(proposal, "budget"), rows_post("budget", rows, proposal.revision))


def post_basic(client, proposal, **changes):
    proposal.refresh_from_db()
    call = proposal.call
    data = {
        "revision": str(proposal.revision),
        "title": proposal.title or "小候鸟·暑期四点半课堂",
        "category": str(proposal.category_id or call.categories.first().pk),
        "places": [str(p.pk) for p in proposal.places.all()] or [str(call.region.pk)],
        "start_month": f"{call.implement_from:%Y-%m}",
        "end_month": f"{call.implement_until:%Y-%m}",
        "beneficiaries_direct": "80",
        "beneficiaries_indirect": "200",
        "summary": "为放学后无人照看的儿童提供课业辅导。",
    }
    data.update(changes)
    return client.post(save_url(proposal, "basic"), data)


@pytest.fixture
def call(regions):
    return make_call(regions["fenghuang"])


@pytest.fixture
def draft(call):
    """A filled draft of an eligible organisation, and its 负责人."""
    p = proposal_at(call, P.DRAFT)
    leader = p.organisation.memberships.get(role=Membership.Role.LEADER).user
    return p, leader


# ---- before typing: the call, the organisation, the verdict ------------------------------------------


def test_an_eligible_organisation_starts_a_draft_from_the_call(client, call):
    org, leader = eligible_org()
    client.force_login(leader)
    url = reverse("grants:start", args=[call.pk])
    html = client.get(url).content.decode()
    assert call.title in html and "符合本次征集的申报条件" in within(html, f"org-{org.pk}")
    assert "人员费用占总预算上限" in within(html, "call-rules") and "30.00%" in within(html, "call-rules")

    response = client.post(url, {"organisation": org.pk})

    proposal = Proposal.objects.get(organisation=org)
    assert response.status_code == 302 and response["Location"] == edit_url(proposal)
    assert proposal.status == P.DRAFT and proposal.created_by == leader
    assert proposal.start_month == call.implement_from.replace(day=1)


def test_an_ineligible_organisation_sees_every_reason_before_typing(client, regions):
    call = make_call(regions["fenghuang"], min_grade="4A", eligible_types=["service_org"])
    org, leader = eligible_org(org_type=OrgType.SOCIAL_GROUP)
    ListEntry.objects.create(
        organisation=org, kind=ListEntry.Kind.BAN, listed_on=datetime.date(2025, 1, 1), reason="挪用资助资金"
    )
    client.force_login(leader)
    url = reverse("grants:start", args=[call.pk])

    box = within(client.get(url).content.decode(), f"org-{org.pk}")

    assert "暂不能申报" in box
    assert "组织类型“社会团体”不在本次申报范围内" in box
    assert "本次申报要求评估等级4A及以上" in box
    assert "因挪用资助资金被禁止申报" in box
    response = client.post(url, {"organisation": org.pk})
    assert response.status_code == 400 and "不在本次申报范围内" in within(response.content.decode(), "start-error")
    assert not Proposal.objects.exists()


def test_more_applications_than_allowed_are_refused_with_the_count(client, call, draft):
    proposal, leader = draft
    client.force_login(leader)
    url = reverse("grants:start", args=[call.pk])
    html = client.get(url).content.decode()
    assert "本次征集每个组织最多申报1个项目，贵组织已申报1个" in within(html, f"org-{proposal.organisation_id}")
    assert proposal.get_absolute_url() in within(html, "existing") or "已有一份申报书" in within(html, "existing")
    assert client.post(url, {"organisation": proposal.organisation_id}).status_code == 400
    # a second one made anyway (e.g. by a data import) shows the rule at the organisation
    extra = Proposal.objects.create(call=call, organisation=proposal.organisation, title="第二份", revision=1)
    assert "最多申报1个项目" in within(page(client, extra), "field-organisation")


def test_a_leader_of_several_organisations_picks_one(client, call):
    first, leader = eligible_org(name="鄂州市澜湖老年服务中心")
    second, _ = eligible_org(name="鄂州市小候鸟儿童服务中心", leader=leader)
    client.force_login(leader)
    html = client.get(reverse("grants:start", args=[call.pk])).content.decode()
    assert 'name="organisation"' in html and "鄂州市澜湖老年服务中心" in html and "鄂州市小候鸟儿童服务中心" in html
    response = client.post(reverse("grants:start", args=[call.pk]))  # nothing chosen
    assert response.status_code == 400 and "请选择以哪个组织申报" in response.content.decode()
    client.post(reverse("grants:start", args=[call.pk]), {"organisation": second.pk})
    assert Proposal.objects.get().organisation == second


def test_a_finance_member_is_told_who_may_apply(client, call):
    org, _ = eligible_org()
    finance = applicant()
    Membership.objects.create(organisation=org, user=finance, role=Membership.Role.FINANCE)
    client.force_login(finance)
    html = client.get(reverse("grants:start", args=[call.pk])).content.decode()
    assert "只有组织的负责人或项目联系人可以申报项目" in within(html, "no-organisation")


# ---- prefilled, never retyped ------------------------------------------------------------------------


def test_the_organisation_profile_is_shown_prefilled_with_past_projects(client, regions):
    org, leader = eligible_org(
        name="鄂州市海马爸比亲子服务中心",
        bank_name="中国农业银行鄂州分行",
        bank_account_name="鄂州市海马爸比亲子服务中心",
        bank_account="6228480123456789",
        contact_name="刘芳",
        contact_phone="13712345678",
    )
    EvaluationGrade.objects.create(
        organisation=org, grade="4A", awarded_on=timezone.localdate() - datetime.timedelta(days=300)
    )
    old_call = make_call(regions["fenghuang"], title="凤凰街道2025年公益创投项目征集", year=2025)
    past = proposal_at(old_call, P.SUBMITTED, org=org, leader=leader, title="海马爸比·亲子共读")
    call = make_call(regions["fenghuang"])
    client.force_login(leader)
    client.post(reverse("grants:start", args=[call.pk]), {"organisation": org.pk})
    proposal = Proposal.objects.get(call=call)

    html = page(client, proposal)

    profile = within(html, "org-profile")
    for fact in (
        org.name,
        org.uscc,
        "民办非企业单位",
        "鄂州市鄂城区凤凰街道",
        org.address,
        "刘芳",
        "13712345678",
        "中国农业银行鄂州分行",
        "6228480123456789",
        "4A",
    ):
        assert fact in profile, fact
    assert "海马爸比·亲子共读" in within(html, "past-projects") and past.get_absolute_url() in html
    assert reverse("orgs:detail", args=[org.pk]) in html or reverse("orgs:edit", args=[org.pk]) in html
    for retyped in ('name="uscc"', 'name="bank_account"', 'name="address"', 'name="contact_phone"'):
        assert retyped not in html


# ---- every rule at its field, as a warning: the draft still saves ----------------------------------------


def _line(category="activity", item="社区活动物料", quantity="1", unit_price="1000", source="grant", nature="normal"):
    return {
        "category": category,
        "item": item,
        "unit": "项",
        "quantity": quantity,
        "unit_price": unit_price,
        "source": source,
        "nature": nature,
        "note": "",
    }


def _lines(*specs):
    """Budget rows from "category:price[:source[:nature[:item]]]", one unit each."""
    rows = []
    for spec in specs:
        parts = spec.split(":")
        source = parts[2] if len(parts) > 2 else "grant"
        nature = parts[3] if len(parts) > 3 else "normal"
        item = parts[4] if len(parts) > 4 else "社区活动物料"
        rows.append(_line(parts[0], item, unit_price=parts[1], source=source, nature=nature))
    return rows


RULES = {
    "grant-below-min": (
        _lines("activity:5000", "activity:5000:self"),
        "grant_amount",
        "申请资助金额为5,000.00元，低于本次征集的单个项目最低资助10,000.00元。",
    ),
    "grant-above-max": (
        _lines("activity:150000", "activity:150000:self"),
        "grant_amount",
        "申请资助金额为150,000.00元，超过本次征集的单个项目最高资助100,000.00元。",
    ),
    "grant-share": (
        _lines("activity:70000", "activity:30000:self"),
        "grant_share",
        "申请资助金额占总预算的70.00%，超过本次征集规定的60.00%；请增加自筹资金或减少申请金额。",
    ),
    "personnel-share": (
        _lines("personnel:40000", "activity:20000", "activity:40000:self"),
        "personnel_share",
        "人员费用占总预算的40.00%，超过本次征集规定的30.00%。",
    ),
    "fixed-asset": (
        _lines("activity:50000", "activity:10000:grant:fixed_asset:投影仪", "activity:40000:self"),
        "budget",
        "预算第2行“投影仪”属于固定资产购置，本次征集不得列支。",
    ),
    "cash": (
        _lines("activity:50000", "activity:10000:grant:cash:慰问金", "activity:40000:self"),
        "budget",
        "预算第2行“慰问金”属于现金或等价物发放，本次征集不得列支。",
    ),
}


@pytest.mark.parametrize("rows, field, message", RULES.values(), ids=RULES.keys())
def test_each_budget_rule_is_shown_at_its_field_and_the_draft_still_saves(client, draft, rows, field, message):
    proposal, leader = draft
    client.force_login(leader)

    response = post_budget(client, proposal, rows)

    assert response.status_code == 302 and response["Location"].endswith("#section-budget")
    assert proposal.budget_lines.count() == len(rows)  # nothing typed refused
    html = page(client, proposal)
    assert message in within(html, f"field-{field}")
    assert message not in within(html, "section-basic")


def test_the_budget_totals_are_computed_never_typed(client, draft):
    proposal, leader = draft
    client.force_login(leader)
    lines = [
        _line("personnel", quantity="3", unit_price="3333.33"),
        _line(quantity="0.5", unit_price="0.01", source="self"),  # 0.005 yuan, kept to the fen half up
    ]
    post_budget(client, proposal, lines)
    proposal.refresh_from_db()
    assert (proposal.budget_total, proposal.grant_amount, proposal.self_funded, proposal.personnel_amount) == (
        Decimal("10000.00"),
        Decimal("9999.99"),
        Decimal("0.01"),
        Decimal("9999.99"),
    )
    html = page(client, proposal)
    totals = within(html, "budget-totals")
    assert "¥10,000.00" in totals and "¥9,999.99" in totals and "¥0.01" in totals
    assert 'name="budget_total"' not in html and 'name="grant_amount"' not in html
    # a price with three decimals is not stored: the form says so at the field and keeps it
    response = post_budget(client, proposal, [_line(unit_price="10.005")])
    assert response.status_code == 400
    assert (
        'value="10.005"' in within(response.content.decode(), "section-budget") or "10.005" in response.content.decode()
    )
    assert "单价（元）最多保留两位小数。" in within(response.content.decode(), "section-budget")


def test_dates_outside_the_implementation_period_are_shown_at_the_dates(client, draft):
    proposal, leader = draft
    call = proposal.call
    client.force_login(leader)
    before = call.implement_from - datetime.timedelta(days=40)
    after = call.implement_until + datetime.timedelta(days=40)

    response = post_basic(client, proposal, start_month=f"{before:%Y-%m}", end_month=f"{after:%Y-%m}")

    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.start_month == before.replace(day=1)  # saved as typed
    html = page(client, proposal)
    assert f"开始年月不能早于项目实施期（{call.implement_from.year}年{call.implement_from.month}月起）" in within(
        html, "field-start_month"
    )
    assert f"结束年月不能晚于项目实施期（{call.implement_until.year}年{call.implement_until.month}月止）" in within(
        html, "field-end_month"
    )


def test_a_category_not_in_the_call_is_shown_at_the_category(client, regions):
    call = make_call(regions["fenghuang"], categories=["elderly", "children"])
    proposal = proposal_at(call, P.DRAFT)
    leader = proposal.organisation.memberships.first().user
    client.force_login(leader)
    from orgs.models import ServiceArea

    other = ServiceArea.objects.exclude(code__in=["elderly", "children"]).first()
    html = page(client, proposal)
    assert f'value="{other.pk}"' not in within(html, "field-category") or other.name not in html  # not offered
    response = post_basic(client, proposal, category=str(other.pk))
    assert response.status_code == 400 and "所选服务领域不在本次征集范围内" in within(
        response.content.decode(), "field-category"
    )
    # one saved some other way (a recommendation from a lower call) is kept and flagged
    services.proposal_save(
        proposal=proposal, by=leader, revision=Proposal.objects.get(pk=proposal.pk).revision, fields={"category": other}
    )
    assert f"服务领域“{other.name}”不在本次征集范围内。" in within(page(client, proposal), "field-category")


def test_places_outside_the_call_region_are_refused_or_flagged_at_the_places(client, regions, draft):
    proposal, leader = draft
    client.force_login(leader)
    html = page(client, proposal)
    places = within(html, "field-places")
    assert "凤凰街道" in places and "凤凰社区" in places and "古楼街道" not in places
    far = regions["gulou"]
    response = post_basic(client, proposal, places=[str(far.pk)])
    assert response.status_code == 400
    assert "所选的实施地点不在本次征集的区域（凤凰街道）内" in within(response.content.decode(), "field-places")
    services.proposal_save(
        proposal=proposal, by=leader, revision=Proposal.objects.get(pk=proposal.pk).revision, places=[far]
    )
    assert "实施地点“古楼街道”不在本次征集的区域（凤凰街道）内。" in within(page(client, proposal), "field-places")


def test_an_organisation_no_longer_eligible_sees_why_on_its_draft(client, draft):
    proposal, leader = draft
    ListEntry.objects.create(
        organisation=proposal.organisation, kind=ListEntry.Kind.ABNORMAL, listed_on=timezone.localdate()
    )
    client.force_login(leader)
    assert "被列入活动异常名录" in within(page(client, proposal), "field-organisation")


def test_a_fresh_draft_is_not_scolded_before_anything_is_typed(client, call):
    org, leader = eligible_org()
    client.force_login(leader)
    client.post(reverse("grants:start", args=[call.pk]), {"organisation": org.pk})
    html = page(client, Proposal.objects.get())
    assert "请填写项目名称" not in html


# ---- submitting ----------------------------------------------------------------------------------------


def test_submit_is_blocked_with_every_message_at_its_field(client, draft):
    proposal, leader = draft
    client.force_login(leader)
    post_budget(
        client,
        proposal,
        [_line("personnel", unit_price="40000"), _line(unit_price="20000"), _line(unit_price="40000", source="self")],
    )

    response = client.post(reverse("grants:submit", args=[proposal.pk]))

    assert response.status_code == 302 and "check=1" in response["Location"]
    proposal.refresh_from_db()
    assert proposal.status == P.DRAFT
    html = page(client, proposal, check="1")
    assert "人员费用占总预算的40.00%" in within(html, "field-personnel_share")
    assert "pp-blocking" in html and "需要修改后才能提交" in within(html, "problems")


def test_submit_confirms_then_submits_and_the_page_turns_read_only(client, draft):
    proposal, leader = draft
    client.force_login(leader)
    confirm = client.get(reverse("grants:submit", args=[proposal.pk]))
    assert confirm.status_code == 200 and "确认提交" in confirm.content.decode()
    assert "¥100,000.00" in within(confirm.content.decode(), "confirm")

    response = client.post(reverse("grants:submit", args=[proposal.pk]))

    proposal.refresh_from_db()
    assert response.status_code == 302 and proposal.status == P.SUBMITTED and proposal.versions.count() == 1
    html = page(client, proposal)
    assert "已提交（待资格审查）" in within(html, "proposal-status")
    assert "data-section" not in html and 'name="title"' not in html
    assert reverse("grants:pdf", args=[proposal.pk]) in html
    assert "申报书已提交" in html  # the flash message
    # a save posted anyway changes nothing
    before = proposal.title
    post_basic(client, proposal, title="改过的名称")
    proposal.refresh_from_db()
    assert proposal.title == before


def test_submit_after_the_call_closed_is_refused_with_a_clear_message(client, draft):
    proposal, leader = draft
    run_transition(proposal.call, "close_applications", by=None)
    client.force_login(leader)
    html = page(client, proposal)
    assert "截止申报" in within(html, "call-closed") and 'id="submit-link"' not in html

    response = client.post(reverse("grants:submit", args=[proposal.pk]), follow=True)

    proposal.refresh_from_db()
    assert proposal.status == P.DRAFT
    assert "当前不接受申报" in response.content.decode()


def test_a_returned_proposal_shows_the_reason_and_deadline_and_is_resubmitted(client, call):
    proposal = proposal_at(call, P.RETURNED)
    leader = proposal.organisation.memberships.first().user
    client.force_login(leader)
    html = page(client, proposal)
    assert "预算说明不够具体。" in within(html, "status-reason")
    assert f"{proposal.correction_deadline.year}年{proposal.correction_deadline.month}月" in within(
        html, "correction-deadline"
    )
    assert "退回修改" in within(html, "history") and "修改完成，重新提交" in html

    post_basic(client, proposal, title="老宝贝·社区长者助餐陪伴计划（修改稿）")
    assert "确认重新提交" in client.get(reverse("grants:submit", args=[proposal.pk])).content.decode()
    client.post(reverse("grants:submit", args=[proposal.pk]))

    proposal.refresh_from_db()
    assert proposal.status == P.SUBMITTED and proposal.versions.count() == 2
    assert proposal.versions.last().data["fields"]["title"].endswith("（修改稿）")
    assert "退回修改 → 已提交（待资格审查）" in " ".join(within(page(client, proposal), "history").split())


def test_a_resubmission_after_the_deadline_is_refused(client, call):
    proposal = proposal_at(call, P.RETURNED)
    Proposal.objects.filter(pk=proposal.pk).update(
        correction_deadline=timezone.localdate() - datetime.timedelta(days=1)
    )
    leader = proposal.organisation.memberships.first().user
    client.force_login(leader)
    response = client.post(reverse("grants:submit", args=[proposal.pk]), follow=True)
    assert "补正截止日期" in response.content.decode() and "已过" in response.content.decode()
    assert Proposal.objects.get(pk=proposal.pk).status == P.RETURNED


def test_a_submitted_proposal_may_be_withdrawn(client, call):
    proposal = proposal_at(call, P.SUBMITTED)
    client.force_login(proposal.organisation.memberships.first().user)
    client.post(reverse("grants:withdraw", args=[proposal.pk]), {"reason": "团队调整"})
    proposal.refresh_from_db()
    assert proposal.status == P.WITHDRAWN and "已撤回" in page(client, proposal)


# ---- who may see and change it -------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in_and_come_back(client, draft):
    proposal, _ = draft
    for url in (
        edit_url(proposal),
        reverse("grants:submit", args=[proposal.pk]),
        reverse("grants:pdf", args=[proposal.pk]),
        reverse("grants:index"),
        reverse("grants:start", args=[proposal.call_id]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), url
    response = client.post(save_url(proposal, "basic"), {"revision": "0", "title": "x"})
    assert (
        response.status_code == 302 and response["Location"] == f"{reverse('accounts:login')}?next={edit_url(proposal)}"
    )


def test_another_organisations_member_gets_404_everywhere(client, draft):
    proposal, _ = draft
    attachment = services.attachment_add(
        proposal=proposal, by=proposal.organisation.memberships.first().user, upload=pdf_upload()
    )
    _, outsider = eligible_org(name="鄂州市另一家社会工作服务中心")
    client.force_login(outsider)
    urls = [
        edit_url(proposal),
        reverse("grants:submit", args=[proposal.pk]),
        reverse("grants:pdf", args=[proposal.pk]),
        reverse("grants:attachment", args=[proposal.pk, attachment.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert post_basic(client, proposal, title="被改了").status_code == 404
    assert client.post(reverse("grants:attachment_delete", args=[proposal.pk, attachment.pk])).status_code == 404
    assert client.post(reverse("grants:withdraw", args=[proposal.pk])).status_code == 404
    proposal.refresh_from_db()
    assert proposal.title != "被改了" and proposal.status == P.DRAFT and ProposalAttachment.objects.count() == 1


def test_a_finance_member_sees_the_proposal_but_cannot_change_it(client, draft):
    proposal, _ = draft
    finance = applicant()
    Membership.objects.create(organisation=proposal.organisation, user=finance, role=Membership.Role.FINANCE)
    client.force_login(finance)

    html = page(client, proposal)

    assert "只有该组织的负责人或项目联系人可以填写和提交申报书" in within(html, "editor-denied")
    assert "data-section" not in html
    response = post_basic(client, proposal, title="财务改的")
    assert response.status_code == 403 and "负责人或项目联系人" in response.content.decode()
    json_response = client.post(save_url(proposal, "basic"), {"revision": "9"}, headers={"Accept": "application/json"})
    assert json_response.status_code == 403 and json_response.json()["error"] == "forbidden"
    assert client.post(reverse("grants:submit", args=[proposal.pk])).status_code == 403
    assert (
        client.post(reverse("grants:attachment_upload", args=[proposal.pk]), {"file": pdf_upload()}).status_code == 403
    )
    proposal.refresh_from_db()
    assert proposal.title != "财务改的" and proposal.status == P.DRAFT


# ---- my proposals, the /me/ panel ----------------------------------------------------------------------


def test_my_proposals_and_the_me_panel_show_status_next_step_and_open_calls(client, call, draft):
    proposal, leader = draft
    returned = proposal_at(
        make_call(call.region, title="凤凰街道第二批公益创投项目征集"),
        P.RETURNED,
        org=proposal.organisation,
        leader=leader,
        title="小候鸟·四点半课堂",
    )
    client.force_login(leader)
    html = client.get(reverse("grants:index")).content.decode()
    assert proposal.title in within(html, "proposals") and "小候鸟·四点半课堂" in within(html, "proposals")
    assert "继续填写并提交" in within(html, "proposals") and "请按审查意见修改" in within(html, "proposals")
    assert call.title in within(html, "open-calls")

    me = client.get(reverse("dashboard")).content.decode()
    panel = within(me, "my-applications")
    assert proposal.title in panel and "草稿" in panel and "退回修改" in panel
    assert reverse("grants:start", args=[call.pk]) in me and returned.get_absolute_url() in me
    assert me.count('id="my-applications"') == 1


def test_the_me_panel_of_someone_without_an_organisation_invites_registration(client, call):
    client.force_login(applicant())
    panel = within(client.get(reverse("dashboard")).content.decode(), "my-applications")
    assert "暂无项目申报" in panel and "登记组织后" in panel


# ---- the cost of the edit page -----------------------------------------------------------------------------


def test_the_edit_page_costs_the_same_with_3_or_30_lines_in_every_table(client, draft):
    proposal, leader = draft
    client.force_login(leader)
    url = edit_url(proposal)
    few = page_queries(client, url)
    many_lines = budget() * 10
    services.proposal_save(
        proposal=proposal,
        by=leader,
        revision=Proposal.objects.get(pk=proposal.pk).revision,
        budget_lines=many_lines,
        activities=[
            {"name": f"活动{i}", "month": proposal.start_month, "content": "内容", "sessions": 2} for i in range(30)
        ],
        team=[
            {"user": leader if i == 0 else None, "name": f"成员{i}", "role": "社工", "qualifications": ""}
            for i in range(30)
        ],
        kpis=[{"indicator": f"指标{i}", "target": Decimal("10"), "unit": "人", "method": "签到"} for i in range(30)],
    )
    many = page_queries(client, url)
    assert many == few, (few, many)
    assert many <= 30


def test_a_city_call_groups_its_places_by_district_then_street_without_script(client, regions):
    city_call = make_call(regions["city"])
    proposal = proposal_at(city_call, P.DRAFT)
    leader = proposal.organisation.memberships.get(role=Membership.Role.LEADER).user
    services.proposal_save(proposal=proposal, by=leader, revision=proposal.revision, places=[regions["fenghuang_c"]])
    client.force_login(leader)
    html = page(client, proposal)
    places = re.sub(r">\s+<", "><", html[html.index('id="field-places"') : html.index('data-errors-for="places"')])

    # 鄂城区 holds the ticked 凤凰社区: open, with its count; 华容区 closed; same name and values
    assert '<details class="pp-district" open><summary><span class="pp-group-name">鄂城区</span>' in places
    assert '<details class="pp-district"><summary><span class="pp-group-name">华容区</span>' in places
    assert '<details class="pp-street" open><summary><span class="pp-group-name">凤凰街道</span>' in places
    assert "已选1处" in places
    ticked = read_form(html, action=save_url(proposal, "basic")).data["places"]
    assert ticked == [str(regions["fenghuang_c"].pk)]
    assert f'name="places" value="{regions["huarong_town"].pk}"' in places

    response = post_basic(client, proposal, places=[str(regions["fenghuang_c"].pk), str(regions["huarong_town"].pk)])
    assert response.status_code == 302
    assert {p.pk for p in proposal.places.all()} == {regions["fenghuang_c"].pk, regions["huarong_town"].pk}


def test_a_street_call_keeps_its_short_list_of_places(client, draft):
    proposal, leader = draft
    client.force_login(leader)
    places = within(page(client, proposal), "field-places")
    assert "<details" not in places and "凤凰社区" in places
