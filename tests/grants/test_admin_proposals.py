"""The staff side of the eligibility check (资格审查): the proposal list in the Wagtail admin
(filters, search, sort, scope, query counts), one proposal's page (every section, the
budget against the call's limits, the organisation's standing, the history, the PDF and
attachments), the actions through the page with the right and wrong role and region, and
the dashboard's waiting items."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.roles import Role
from core.models import Notification
from grants.models import CallLevel, Proposal, ProposalAttachment, ProposalStatus
from grants.services import checks, proposals
from orgs.models import ListEntry, OrgType, ServiceArea
from tests.factories import applicant, staff
from tests.grants.factories import budget, eligible_org, make_call, proposal_at
from tests.orgs.test_admin import _own_queries
from tests.queries import page_queries

P = ProposalStatus
pytestmark = pytest.mark.django_db
LIST = reverse("grants_admin:proposals")


def page_url(p) -> str:
    return reverse("grants_admin:proposal", args=[p.pk])


def action_url(p, slug) -> str:
    return reverse("grants_admin:proposal_action", args=[p.pk, slug])


def _rows(response) -> list:
    return list(response.context["page_obj"].object_list)


def _titles(response) -> list[str]:
    return [p.title for p in _rows(response)]


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def call(regions):
    return make_call(regions["fenghuang"])


@pytest.fixture
def manager(regions):
    return staff(Role.CALL_MANAGER, regions["fenghuang"], name="凤凰街道民政专干")


@pytest.fixture
def submitted(call):
    return proposal_at(call, P.SUBMITTED, title="老宝贝·社区长者助餐陪伴计划")


# ---- the list ------------------------------------------------------------------------------------


def test_the_list_shows_submitted_proposals_in_scope_and_no_drafts(client, regions, call, manager, submitted):
    draft = proposal_at(call, P.DRAFT, title="小候鸟·暑期托管（草稿）")
    gulou_call = make_call(regions["gulou"])
    elsewhere = proposal_at(gulou_call, P.SUBMITTED, title="古楼街道海马爸比亲子课堂")
    client.force_login(manager)

    response = client.get(LIST)

    assert response.status_code == 200
    assert _titles(response) == [submitted.title]
    html = response.content.decode()
    assert submitted.title in html and submitted.number in html and submitted.organisation.name in html
    assert draft.title not in html and elsewhere.title not in html
    assert f'href="{page_url(submitted)}"' in html
    assert "60,000.00" in html and "60.00%" in html  # 申请金额, 资助占比

    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))  # the district sees both streets
    assert sorted(_titles(client.get(LIST))) == sorted([submitted.title, elsewhere.title])
    client.force_login(staff(Role.CALL_MANAGER, regions["huarong"]))  # the other district: none
    response = client.get(LIST)
    assert _titles(response) == [] and "您负责区域的征集还没有收到申报" in response.content.decode()


def test_the_menu_offers_the_list_to_those_who_may_see_it(client, regions, manager):
    client.force_login(manager)
    assert LIST in client.get("/admin/").content.decode()
    client.force_login(staff(Role.REVIEWER, regions["fenghuang"]))
    assert LIST not in client.get("/admin/").content.decode()


# ---- one proposal's page ----------------------------------------------------------------------------


def test_the_page_shows_every_section_of_the_submitted_version(client, call, manager, submitted):
    org = submitted.organisation
    client.force_login(manager)

    response = client.get(page_url(submitted))

    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        submitted.title,
        submitted.number,
        org.name,
        org.uscc,
        "凤凰街道",  # 实施地点
        "为社区独居老人提供助餐、探访和陪伴。",
        "社区60岁以上老人占比高",
        "一年内为120名老人提供助餐服务。",
        "志愿者流失",
        "长者助餐",  # the activity
        "中级社工师",  # the team
        "服务老人",  # the KPI
        "项目社工补贴",  # a budget line
        "¥100,000.00",  # 总预算
        "¥60,000.00",  # 申请资助
        "60.00%",  # 资助占比
        "上限 60.00%",
        "20.00%",  # 人员费用占比
        "等待资格审查",
    ):
        assert text in html, text
    assert "预算不符合本次征集的规定" not in html
    assert "该组织目前符合本次征集的申报条件" in html
    # the eligibility actions, from the state machine
    for slug in ("eligible", "return", "ineligible"):
        assert action_url(submitted, slug) in html, slug
    assert action_url(submitted, "withdraw") not in html  # the applicant's own
    assert 'id="read-only"' not in html
    assert "开始填写申报书" in html and "已提交（待资格审查）" in html  # the history


def test_the_budget_is_flagged_against_the_calls_limits(client, regions, manager):
    call = make_call(regions["fenghuang"], max_personnel_share=Decimal("30"))
    p = proposal_at(call, P.SUBMITTED)
    # the call's rules tightened after submission: the page judges the version by them now
    type(call).objects.filter(pk=call.pk).update(max_personnel_share=Decimal("10"), max_grant_share=Decimal("50"))
    client.force_login(manager)

    html = client.get(page_url(p)).content.decode()

    assert "预算不符合本次征集的规定" in html
    assert "人员费用占总预算的20.00%，超过本次征集规定的10.00%" in html
    assert "申请资助金额占总预算的60.00%，超过本次征集规定的50.00%" in html
    assert html.count("超出上限") == 2


def test_the_standing_leaves_out_the_application_period_but_shows_a_ban(client, regions, call, manager, submitted):
    org = submitted.organisation
    ListEntry.objects.create(
        organisation=org, kind=ListEntry.Kind.BAN, listed_on=timezone.localdate(), reason="项目严重违约"
    )
    type(call).objects.filter(pk=call.pk).update(apply_until=timezone.localdate() - datetime.timedelta(days=1))
    client.force_login(manager)

    html = client.get(page_url(submitted)).content.decode()

    assert "因项目严重违约被禁止申报" in html
    assert "不在申报期" not in html


def test_staff_download_an_attachment_of_a_proposal_in_scope_only(client, regions, manager, submitted):
    attachment = ProposalAttachment(proposal=submitted, kind="budget", original_name="预算说明.pdf", size=8)
    attachment.file.save("x.pdf", ContentFile(b"%PDF-1.4"), save=False)
    attachment.save()
    url = reverse("grants_admin:proposal_attachment", args=[attachment.pk])
    client.force_login(manager)

    assert url in client.get(page_url(submitted)).content.decode()
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"%PDF-1.4"
    assert "attachment" in response["Content-Disposition"]

    client.force_login(staff(Role.CALL_MANAGER, regions["gulou"]))
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_the_page_costs_the_same_queries_however_many_budget_lines(client, call, manager):
    few = proposal_at(call, P.SUBMITTED)
    many_lines = [
        {**row, "item": f"{row['item']}{i}", "unit_price": row["unit_price"] / 10}
        for i in range(10)
        for row in budget()
    ]
    many = proposal_at(call, P.SUBMITTED, budget_lines=many_lines)
    assert many.budget_lines.count() == 30
    client.force_login(manager)

    with_few = _page_queries(client, page_url(few))
    with_many = _page_queries(client, page_url(many))

    assert len(with_few) == len(with_many)
    own = _own_queries(with_many)  # without the admin shell every Wagtail page pays for
    assert len(own) <= 15, "\n".join(own)
    print(f"proposal page: {len(with_many)} queries, {len(own)} of them the page's own")


def _page_queries(client, url):
    client.get(url)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return ctx.captured_queries


# ---- filters, search, sort ---------------------------------------------------------------------------


def _bulk(call, n: int, *, org=None, start: int = 0, **fields) -> list[Proposal]:
    """n submitted proposals to `call`, written in one statement: rows for the list, not for logic."""
    org = org or eligible_org(call.region)[0]
    now = timezone.now()
    values = {
        "status": P.SUBMITTED,
        "grant_amount": Decimal("50000.00"),
        "budget_total": Decimal("100000.00"),
        "self_funded": Decimal("50000.00"),
        **fields,
    }
    return Proposal.objects.bulk_create(
        Proposal(
            call=call,
            organisation=org,
            **{
                "number": f"GY{call.year}-{call.pk:03d}-{90000 + start + i:05d}",
                "title": f"批量申报项目{start + i}号",
                "submitted_at": now - datetime.timedelta(minutes=start + i),
                **values,
            },
        )
        for i in range(n)
    )


@pytest.fixture
def spread(regions, call):
    """Proposals that differ in one respect each, all in 凤凰街道's scope."""
    community_call = make_call(regions["fenghuang_c"])
    filed, _ = eligible_org(regions["fenghuang"], org_type=OrgType.COMMUNITY_FILED, name="凤凰社区海马爸比互助会")
    elderly, children = ServiceArea.objects.get(code="elderly"), ServiceArea.objects.get(code="children")
    week_ago = timezone.now() - datetime.timedelta(days=7)
    rows = {
        "small": _bulk(call, 1, start=0, title="老宝贝助餐", grant_amount=Decimal("20000.00"), category=elderly),
        "big": _bulk(call, 1, start=1, title="小候鸟暑托", grant_amount=Decimal("90000.00"), category=children),
        "returned": _bulk(
            call, 1, start=2, title="退回的项目", status=P.RETURNED, correction_deadline=timezone.localdate()
        ),
        "community": _bulk(community_call, 1, start=3, title="社区微创投", org=filed, submitted_at=week_ago),
    }
    rows = {k: v[0] for k, v in rows.items()}
    rows["community"].places.set([regions["fenghuang_c"]])
    rows["small"].places.set([regions["fenghuang"]])
    rows["community_call"] = community_call
    return rows


FILTERS = [
    ({"status": P.RETURNED}, ["退回的项目"]),
    ({"level": CallLevel.COMMUNITY}, ["社区微创投"]),
    ({"region": "FENGHUANG_C"}, ["社区微创投"]),
    ({"category": "CHILDREN"}, ["小候鸟暑托"]),
    ({"org_type": OrgType.COMMUNITY_FILED}, ["社区微创投"]),
    ({"amount_min": "80000"}, ["小候鸟暑托"]),
    ({"amount_max": "20000.00"}, ["老宝贝助餐"]),
    ({"amount_min": "30000", "amount_max": "60000"}, ["退回的项目", "社区微创投"]),
    ({"call": "COMMUNITY_CALL"}, ["社区微创投"]),
    ({"submitted_at_to": "WEEK_AGO"}, ["社区微创投"]),
    ({"q": "海马爸比"}, ["社区微创投"]),  # the organisation's name
    ({"q": "小候鸟"}, ["小候鸟暑托"]),  # the title
    ({"q": "90002"}, ["退回的项目"]),  # part of the number
]


@pytest.mark.parametrize("query, expected", FILTERS, ids=[",".join(q) for q, _ in FILTERS])
def test_each_filter_narrows_the_list(client, regions, manager, spread, query, expected):
    values = {
        "FENGHUANG_C": regions["fenghuang_c"].pk,
        "CHILDREN": ServiceArea.objects.get(code="children").pk,
        "COMMUNITY_CALL": spread["community_call"].pk,
        "WEEK_AGO": timezone.localdate() - datetime.timedelta(days=6),
    }
    query = {k: values.get(v, v) for k, v in query.items()}
    client.force_login(manager)

    response = client.get(LIST, query)

    assert response.status_code == 200
    assert sorted(_titles(response)) == sorted(expected)
    assert len(_titles(client.get(LIST))) == 4


def test_search_by_the_uscc(client, manager, spread):
    org = spread["big"].organisation
    client.force_login(manager)
    assert _titles(client.get(LIST, {"q": org.uscc.lower()})) == ["小候鸟暑托"]


def test_a_filter_value_out_of_scope_or_absurd_is_said_and_ignored(client, regions, manager, spread):
    far_call = make_call(regions["huarong_town"])
    client.force_login(manager)
    for query, field in (
        ({"call": far_call.pk}, "征集"),
        ({"region": regions["huarong_town"].pk}, "实施地点"),
        ({"amount_min": "90000", "amount_max": "10000"}, "申请金额至（元）"),
        ({"amount_min": "很多"}, "申请金额从（元）"),
    ):
        response = client.get(LIST, query)
        assert response.status_code == 200
        assert len(_titles(response)) == 4, query
        assert f"筛选条件无效，已忽略：{field}" in response.content.decode(), query
    html = client.get(LIST, {"amount_min": "90000", "amount_max": "10000"}).content.decode()
    assert "申请金额的上限不能低于下限" in html


def test_the_call_and_region_choices_are_the_users_scope(client, regions, manager, spread):
    far_call = make_call(regions["huarong_town"], title="华容镇2026年公益创投项目征集")
    client.force_login(manager)
    html = client.get(LIST).content.decode()
    assert spread["community_call"].title in html and far_call.title not in html
    assert "凤凰社区" in html and "华容镇" not in html


SORTS = [
    ("grant_amount", ["老宝贝助餐", "退回的项目", "社区微创投", "小候鸟暑托"]),
    ("-grant_amount", ["小候鸟暑托", "社区微创投", "退回的项目", "老宝贝助餐"]),
    ("-submitted_at", ["老宝贝助餐", "小候鸟暑托", "退回的项目", "社区微创投"]),
    ("submitted_at", ["社区微创投", "退回的项目", "小候鸟暑托", "老宝贝助餐"]),
    ("number", ["老宝贝助餐", "小候鸟暑托", "退回的项目", "社区微创投"]),
    ("title", sorted(["老宝贝助餐", "小候鸟暑托", "退回的项目", "社区微创投"])),
    ("grant_share", ["老宝贝助餐", "退回的项目", "社区微创投", "小候鸟暑托"]),
    ("-status", ["老宝贝助餐", "小候鸟暑托", "社区微创投", "退回的项目"]),
]


@pytest.mark.parametrize("ordering, expected", SORTS, ids=[s for s, _ in SORTS])
def test_each_column_sorts(client, manager, spread, ordering, expected):
    client.force_login(manager)
    titles = _titles(client.get(LIST, {"ordering": ordering}))
    if ordering == "title":  # the database's collation, not Python's: both orders of the same four
        assert sorted(titles) == expected
    elif ordering == "-status":  # submitted > returned; ties newest first by pk
        assert titles[-1] == "退回的项目" and set(titles[:3]) == set(expected[:3])
    else:
        assert titles == expected


def test_sorting_by_organisation_and_call(client, manager, spread):
    client.force_login(manager)
    by_org = _rows(client.get(LIST, {"ordering": "organisation__name"}))
    assert [p.organisation.name for p in by_org] == sorted(p.organisation.name for p in by_org)
    by_call = _rows(client.get(LIST, {"ordering": "-call__title"}))
    assert [p.call.title for p in by_call] == sorted((p.call.title for p in by_call), reverse=True)


def test_fifty_a_page(client, call, manager):
    _bulk(call, 60)
    client.force_login(manager)
    assert len(_rows(client.get(LIST))) == 50
    assert len(_rows(client.get(LIST, {"p": 2}))) == 10


LIST_QUERIES = [
    None,
    {"p": "2"},
    {"q": "批量"},
    {"ordering": "organisation__name"},
    {"ordering": "-grant_share", "status": P.SUBMITTED},
    {"call": "CALL", "level": CallLevel.STREET, "category": "ELDERLY", "org_type": OrgType.SERVICE_ORG},
    {"region": "FENGHUANG", "amount_min": "1000", "amount_max": "90000", "submitted_at_from": "2020-01-01"},
    {"overdue": "on"},
]


@pytest.mark.parametrize("data", LIST_QUERIES)
def test_the_list_costs_the_same_queries_for_10_and_300_proposals(client, regions, call, manager, data):
    elderly = ServiceArea.objects.get(code="elderly")
    values = {"CALL": call.pk, "ELDERLY": elderly.pk, "FENGHUANG": regions["fenghuang"].pk}
    data = {k: values.get(v, v) for k, v in data.items()} if data else None
    org = eligible_org(call.region)[0]
    client.force_login(manager)

    def more(n, start):
        rows = _bulk(call, n, org=org, start=start, category=elderly)
        Proposal.places.through.objects.bulk_create(
            Proposal.places.through(proposal_id=p.pk, region_id=regions["fenghuang"].pk) for p in rows
        )

    more(10, 0)
    with_ten = page_queries(client, LIST, data)
    more(290, 10)
    with_many = page_queries(client, LIST, data)
    assert with_ten == with_many
    assert with_many <= 15
    print(f"{LIST} {data or ''}: {with_many} queries")


# ---- the actions through the page ------------------------------------------------------------------


def _logs(p):
    """The proposal's history after its submission."""
    return StateLog.objects.for_(p).exclude(transition__in=["create", "submit"])


def _leader(p):
    return p.organisation.memberships.get().user


def _notices(p):
    return Notification.objects.filter(recipient=_leader(p)).order_by("pk")


def test_marking_eligible(client, manager, submitted):
    before = _notices(submitted).count()
    client.force_login(manager)

    response = client.post(action_url(submitted, "eligible"), {"check-reason": ""})

    assert response.status_code == 302 and response.url == page_url(submitted)
    submitted.refresh_from_db()
    assert submitted.status == P.ELIGIBLE and submitted.checked_at is not None
    last = _logs(submitted).last()
    assert last.by == manager and last.transition == "mark_eligible"
    notice = _notices(submitted).last()
    assert _notices(submitted).count() == before + 1 and notice.title == f"资格审查通过：{submitted.title}"
    page = client.get(response.url)
    assert "资格审查通过，已通知申报单位" in _messages(page)[0]
    assert action_url(submitted, "eligible") not in page.content.decode()  # nothing left to do


def test_returning_for_correction_with_what_to_fix_and_a_deadline(client, manager, submitted):
    deadline = timezone.localdate() + datetime.timedelta(days=7)
    client.force_login(manager)

    response = client.post(
        action_url(submitted, "return"),
        {"return-reason": "预算说明不够具体，请补充活动物料的测算依据。", "return-deadline": deadline.isoformat()},
    )

    assert response.status_code == 302, _messages(client.get(page_url(submitted)))
    submitted.refresh_from_db()
    assert submitted.status == P.RETURNED and submitted.correction_deadline == deadline
    assert submitted.status_reason == "预算说明不够具体，请补充活动物料的测算依据。"
    assert "预算说明不够具体" in _logs(submitted).last().description
    notice = _notices(submitted).last()
    assert notice.title == f"申报书退回修改：{submitted.title}" and "预算说明不够具体" in notice.body
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in notice.body
    html = client.get(page_url(submitted)).content.decode()
    assert "已退回申报单位修改" in html and "最近一次审查意见：预算说明不够具体" in html


def test_marking_ineligible_with_the_reason(client, manager, submitted):
    client.force_login(manager)
    response = client.post(action_url(submitted, "ineligible"), {"check-reason": "不在本次征集的服务领域。"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == P.INELIGIBLE and submitted.status_reason == "不在本次征集的服务领域。"
    assert _notices(submitted).last().body == "理由：不在本次征集的服务领域。"


def test_returning_without_a_reason_keeps_the_deadline_typed(client, manager, submitted):
    deadline = (timezone.localdate() + datetime.timedelta(days=9)).isoformat()
    client.force_login(manager)

    response = client.post(action_url(submitted, "return"), {"return-reason": "  ", "return-deadline": deadline})

    assert response.status_code == 400
    html = response.content.decode()
    assert "请写明需要修改的内容，申报单位将看到这段说明。" in html
    assert f'value="{deadline}"' in html  # what was typed is still there
    submitted.refresh_from_db()
    assert submitted.status == P.SUBMITTED and not _logs(submitted).exists()


def test_a_deadline_in_the_past_is_refused_and_the_reason_kept(client, manager, submitted):
    yesterday = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    client.force_login(manager)

    response = client.post(
        action_url(submitted, "return"), {"return-reason": "请补充需求调研材料。", "return-deadline": yesterday}
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "补正截止日期不能早于今天。" in html and "请补充需求调研材料。" in html
    submitted.refresh_from_db()
    assert submitted.status == P.SUBMITTED


def test_not_passing_without_a_reason_says_so_and_changes_nothing(client, manager, submitted):
    client.force_login(manager)
    response = client.post(action_url(submitted, "ineligible"), {"check-reason": ""})
    assert response.status_code == 400
    assert "资格审查不通过时请填写理由" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == P.SUBMITTED and not _logs(submitted).exists()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.FINANCE])
def test_auditors_and_finance_see_the_page_read_only_and_are_refused(client, regions, submitted, role):
    client.force_login(staff(role, regions["city"]))

    assert submitted.title in client.get(LIST).content.decode()
    html = client.get(page_url(submitted)).content.decode()
    assert 'id="read-only"' in html
    assert action_url(submitted, "eligible") not in html and action_url(submitted, "return") not in html

    response = client.post(action_url(submitted, "eligible"), {"check-reason": ""})

    assert response.status_code == 403 and "您没有“资格审查通过”的权限" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == P.SUBMITTED and not _logs(submitted).exists()


def test_a_reviewer_an_applicant_and_anonymous_users_do_not_get_in(client, regions, submitted):
    for user in (staff(Role.REVIEWER, regions["fenghuang"]), _leader(submitted), applicant(), None):
        if user:
            client.force_login(user)
        else:
            client.logout()
        for response in (
            client.get(LIST),
            client.get(page_url(submitted)),
            client.post(action_url(submitted, "eligible"), {"check-reason": ""}),
        ):
            assert response.status_code in (302, 403), user
            if response.status_code == 302:
                assert response.url.startswith(("/admin/login/", "/admin/")), response.url
    client.logout()
    assert client.get(page_url(submitted)).url.startswith("/admin/login/")
    submitted.refresh_from_db()
    assert submitted.status == P.SUBMITTED


def test_staff_of_another_street_get_404_and_change_nothing(client, regions, submitted):
    client.force_login(staff(Role.CALL_MANAGER, regions["gulou"]))
    assert client.get(page_url(submitted)).status_code == 404
    assert client.post(action_url(submitted, "eligible"), {"check-reason": ""}).status_code == 404
    submitted.refresh_from_db()
    assert submitted.status == P.SUBMITTED


def test_a_district_manager_checks_a_streets_proposal(client, regions, submitted):
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    assert client.post(action_url(submitted, "eligible"), {"check-reason": "材料齐全。"}).status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == P.ELIGIBLE and submitted.status_reason == "材料齐全。"


def test_a_draft_is_not_the_staffs(client, call, manager):
    draft = proposal_at(call, P.DRAFT)
    client.force_login(manager)
    assert client.get(page_url(draft)).status_code == 404


def test_an_unknown_action_is_404_and_a_get_405(client, manager, submitted):
    client.force_login(manager)
    assert client.post(action_url(submitted, "delete-everything")).status_code == 404
    assert client.get(action_url(submitted, "eligible")).status_code == 405


# ---- after the deadline ------------------------------------------------------------------------------


def test_an_overdue_correction_becomes_ineligible_and_the_applicant_is_told(client, call, manager):
    returned = proposal_at(call, P.RETURNED)
    later = returned.correction_deadline + datetime.timedelta(days=1)
    client.force_login(manager)

    assert checks.expire_corrections(today=later) == 1

    returned.refresh_from_db()
    assert returned.status == P.INELIGIBLE and "前未重新提交" in returned.status_reason
    last = _logs(returned).last()
    assert last.transition == "expire" and last.by is None
    assert _notices(returned).last().title == f"资格审查未通过：{returned.title}"
    html = client.get(page_url(returned)).content.decode()
    assert "资格审查未通过" in html and "前未重新提交" in html and "系统" in html  # the history says who


def test_an_overdue_correction_is_flagged_before_the_task_has_run(client, call, manager):
    returned = proposal_at(call, P.RETURNED)
    Proposal.objects.filter(pk=returned.pk).update(
        correction_deadline=timezone.localdate() - datetime.timedelta(days=1)
    )
    client.force_login(manager)
    assert _titles(client.get(LIST, {"overdue": "on"})) == [returned.title]
    assert "补正已逾期" in client.get(page_url(returned)).content.decode()
    assert "（已逾期）" in client.get(LIST).content.decode()


# ---- the dashboard ------------------------------------------------------------------------------------


def test_the_dashboard_counts_what_waits_in_scope(client, regions, call, manager, submitted):
    proposal_at(call, P.SUBMITTED, title="小候鸟·暑期托管")
    proposal_at(make_call(regions["gulou"]), P.SUBMITTED)  # not theirs
    late = proposal_at(call, P.RETURNED)
    Proposal.objects.filter(pk=late.pk).update(correction_deadline=timezone.localdate() - datetime.timedelta(days=2))
    client.force_login(manager)

    html = client.get("/admin/").content.decode()

    assert "申报项目待资格审查" in html and "最早一份提交于" in html
    assert f"{LIST}?status=submitted&amp;ordering=submitted_at" in html
    items = {i.label: i for i in _waiting(client)}
    assert items["申报项目待资格审查"].count == 2
    assert items["退回修改逾期未重新提交"].count == 1 and items["退回修改逾期未重新提交"].urgent

    client.force_login(staff(Role.AUDITOR, regions["city"]))  # may look, not check: nothing waits for them
    assert "申报项目待资格审查" not in client.get("/admin/").content.decode()


def _waiting(client):
    from django.test import RequestFactory

    from core.dashboard import waiting_items

    request = RequestFactory().get("/admin/")
    request.user = client.get("/admin/").wsgi_request.user
    return waiting_items(request)


# ---- 三级联动 ------------------------------------------------------------------------------------------


def test_a_recommended_proposal_shows_the_lower_call_its_score_and_status(client, regions):
    from grants.services import linkage

    upper = make_call(regions["fenghuang"], title="凤凰街道2026年公益创投项目征集")
    lower = make_call(regions["fenghuang_c"], title="凤凰社区2026年微创投", next_round=upper)
    original = proposal_at(lower, P.ELIGIBLE, title="海马爸比·亲子共读")
    Proposal.objects.filter(pk=original.pk).update(score=Decimal("88.50"))
    street = staff(Role.CALL_MANAGER, regions["fenghuang"])
    client.force_login(street)
    # the lower proposal's page offers the other stage's action beside the eligibility check
    assert action_url(original, "recommend") in client.get(page_url(original)).content.decode()
    recommendation = linkage.recommend(proposal=original, by=street, reason="社区评审第一名。")
    leader = _leader(original)
    copy = linkage.recommendation_accept(recommendation=recommendation, by=leader)
    proposals.proposal_submit(proposal=copy, by=leader)

    html = client.get(page_url(copy)).content.decode()

    assert 'id="recommended"' in html and "由下级征集推荐" in html
    assert "凤凰社区2026年微创投" in html and "88.50" in html and "资格审查通过" in html
    assert f'href="{page_url(original)}"' in html


def test_staff_open_the_pdf_of_a_proposal_in_scope(client, regions, manager, submitted):
    url = reverse("grants_admin:proposal_pdf", args=[submitted.pk])
    client.force_login(manager)
    assert url in client.get(page_url(submitted)).content.decode()
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    client.force_login(staff(Role.CALL_MANAGER, regions["gulou"]))
    assert client.get(url).status_code == 404
