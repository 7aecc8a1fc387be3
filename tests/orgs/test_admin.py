"""The registry's staff screens in the Wagtail admin: scope, filters, the review queue,
the review page and its actions, read-only roles, similar names and query counts."""

import datetime
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts.roles import Role
from core.models import Notification
from orgs import services
from orgs.models import (
    AnnualInspection,
    DocumentKind,
    LegalChangeRequest,
    ListEntry,
    Membership,
    Organisation,
    OrganisationStatus,
    OrgType,
)
from orgs.selectors import similar_name_flags, similar_organisations
from tests.factories import (
    OrganisationFactory,
    UserFactory,
    make_uscc,
    organisation_with_leader,
    pdf_upload,
    staff,
)
from tests.queries import page_queries

pytestmark = pytest.mark.django_db

REGISTRY = "/admin/orgs/"
QUEUE = "/admin/orgs/review/"
MAX_QUERIES = 15


def review_url(org) -> str:
    return f"/admin/orgs/review/{org.pk}/"


def action_url(org, action: str) -> str:
    return f"/admin/orgs/review/{org.pk}/{action}/"


def submitted(region, name=None, **kwargs) -> tuple[Organisation, object]:
    """An organisation its leader has filled in, documented and submitted, via the services."""
    if name:
        kwargs["name"] = name
    org, leader = organisation_with_leader(region=region, **kwargs)
    for kind in (DocumentKind.REGISTRATION_CERTIFICATE, DocumentKind.CHARTER):
        upload = pdf_upload(f"{DocumentKind(kind).label}.pdf")
        upload.kind = "pdf"
        services.document_upload(org=org, by=leader, kind=kind, upload=upload)
    services.organisation_submit(org=org, by=leader)
    return Organisation.objects.get(pk=org.pk), leader


def verified(region, **kwargs) -> Organisation:
    org, _ = submitted(region, **kwargs)
    services.organisation_verify(org=org, by=UserFactory(is_superuser=True))
    return Organisation.objects.get(pk=org.pk)


def _bulk_orgs(region, start: int, count: int, status=OrganisationStatus.SUBMITTED):
    now = timezone.now()
    Organisation.objects.bulk_create(
        Organisation(
            name=f"凤凰街道测试社会工作服务中心{n}号",
            org_type=OrgType.SERVICE_ORG,
            uscc=make_uscc(10_000 + n),
            legal_representative="张三",
            address="湖北省鄂州市凤凰街道1号",
            region=region,
            contact_name="张三",
            contact_phone="13800000000",
            status=status,
            submitted_at=now - datetime.timedelta(hours=n),
            latest_grade="3A" if n % 2 else "",
            latest_inspection_year=2025,
            latest_inspection_result="passed",
        )
        for n in range(start, start + count)
    )


def names_in(response) -> str:
    return response.content.decode()


def column_headings(html: str) -> list[str]:
    """The list table's column headings, in order (a sortable one is a link)."""
    head = html.split("<thead>", 1)[1].split("</thead>", 1)[0]
    cells = re.findall(r"<th\b[^>]*>(.*?)</th>", head, re.S)
    return [text for text in (re.sub(r"<[^>]+>|\s+", "", cell) for cell in cells) if text]


@pytest.fixture
def manager(regions):
    """A 民政 call manager of 鄂城区 (covers 凤凰街道 and 古楼街道, not 华容区)."""
    return staff(Role.CALL_MANAGER, regions["echeng"])


@pytest.fixture
def three_districts(regions):
    return {
        "fenghuang": OrganisationFactory(name="凤凰街道老宝贝为老服务中心", region=regions["fenghuang"]),
        "gulou": OrganisationFactory(name="古楼街道小候鸟关爱中心", region=regions["gulou"]),
        "huarong": OrganisationFactory(name="华容镇海马爸比亲子中心", region=regions["huarong_town"]),
    }


# ---- access ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_admin_login(client, regions):
    response = client.get(REGISTRY)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/admin/orgs/")


def test_an_applicant_without_admin_access_is_refused(client, regions):
    org, leader = submitted(regions["fenghuang"])
    client.force_login(leader)
    for url in (REGISTRY, QUEUE, review_url(org)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    response = client.post(action_url(org, "verify"), {"reason-reason": ""})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.status == OrganisationStatus.SUBMITTED


def test_staff_without_the_view_permission_are_refused(client, regions):
    reviewer = staff(Role.REVIEWER, regions["city"])
    client.force_login(reviewer)
    response = client.get(REGISTRY, follow=True)
    assert response.redirect_chain[-1][0] == "/admin/"
    assert "登记名录" not in names_in(response)


def sidebar_menu(client) -> str:
    """The admin sidebar's menu (Wagtail renders it from JSON props), as readable text."""
    html = client.get("/admin/").content.decode()
    props = re.search(r'<script id="wagtail-sidebar-props" type="application/json">(.*?)</script>', html, re.S)
    return json.dumps(json.loads(props.group(1)), ensure_ascii=False)


def test_the_menu_offers_the_registry_to_call_managers(client, manager, regions):
    client.force_login(manager)
    menu = sidebar_menu(client)
    for label in ('"社会组织"', '"登记名录"', '"/admin/orgs/"', '"待审核"', '"/admin/orgs/review/"'):
        assert label in menu
    client.force_login(staff(Role.REVIEWER, regions["city"]))
    assert "社会组织" not in sidebar_menu(client)


# ---- registry list --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who, sees, does_not_see",
    [
        ("district", {"fenghuang", "gulou"}, {"huarong"}),
        ("street", {"fenghuang"}, {"gulou", "huarong"}),
        ("superuser", {"fenghuang", "gulou", "huarong"}, set()),
    ],
)
def test_registry_lists_only_the_users_region_subtree(client, regions, three_districts, who, sees, does_not_see):
    user = {
        "district": lambda: staff(Role.CALL_MANAGER, regions["echeng"]),
        "street": lambda: staff(Role.BASE_OPERATOR, regions["fenghuang"]),
        "superuser": lambda: UserFactory(is_superuser=True),
    }[who]()
    client.force_login(user)
    response = client.get(REGISTRY)
    assert response.status_code == 200
    html = names_in(response)
    for key in sees:
        assert three_districts[key].name in html
    for key in does_not_see:
        assert three_districts[key].name not in html
    assert f"共 {len(sees)} 个组织" in html


def test_registry_shows_the_columns_staff_need(client, manager, regions):
    org = OrganisationFactory(name="凤凰街道夕阳红居家养老服务中心", region=regions["fenghuang"])
    staff_user = UserFactory(is_superuser=True)
    services.inspection_record(org=org, by=staff_user, year=2025, result=AnnualInspection.Result.BASIC)
    services.grade_record(org=org, by=staff_user, grade="4A", awarded_on=datetime.date(2024, 6, 1))
    client.force_login(manager)
    html = names_in(client.get(REGISTRY))
    assert column_headings(html) == [
        "名称",
        "类型",
        "信用代码/备案编号",
        "区域",
        "状态",
        "评估等级",
        "最近年检",
        "更新时间",
    ]
    assert org.uscc in html
    assert "民办非企业单位（社会服务机构）" in html
    assert "凤凰街道" in html
    assert "草稿" in html
    assert "4A" in html
    assert "2025年度 基本合格" in html
    assert f'href="{review_url(org)}"' in html


def test_registry_filters_and_export_link_keep_the_same_query(client, manager, regions):
    service = OrganisationFactory(name="凤凰街道书香社区阅读服务中心", region=regions["fenghuang"])
    group = OrganisationFactory(
        name="古楼街道银龄志愿者协会", region=regions["gulou"], org_type=OrgType.SOCIAL_GROUP, uscc=make_uscc(900, "1")
    )
    filed = OrganisationFactory(
        name="凤凰社区邻里互助志愿服务队",
        region=regions["fenghuang_c"],
        org_type=OrgType.COMMUNITY_FILED,
        uscc=None,
        filing_number="鄂州备20260001",
        sponsor_name="凤凰街道办事处",
    )
    submitted_org, _ = submitted(regions["gulou"], name="古楼街道绿水河湖保护服务中心")
    services.grade_record(org=group, by=manager, grade="3A", awarded_on=datetime.date(2024, 1, 1))
    services.inspection_record(org=service, by=manager, year=2025, result=AnnualInspection.Result.FAILED)
    client.force_login(manager)

    def listed(**query) -> set[str]:
        html = names_in(client.get(REGISTRY, query))
        return {o.name for o in (service, group, filed, submitted_org) if o.name in html}

    assert listed() == {service.name, group.name, filed.name, submitted_org.name}
    assert listed(q="书香") == {service.name}
    assert listed(q=group.uscc.lower()) == {group.name}
    assert listed(q="鄂州备20260001") == {filed.name}
    assert listed(org_type=OrgType.SOCIAL_GROUP) == {group.name}
    assert listed(status=OrganisationStatus.SUBMITTED) == {submitted_org.name}
    assert listed(region=regions["fenghuang"].pk) == {service.name, filed.name}
    assert listed(grade="3A") == {group.name}
    assert listed(grade="none") == {service.name, filed.name, submitted_org.name}
    assert listed(inspection=AnnualInspection.Result.FAILED) == {service.name}
    assert listed(inspection="none", org_type=OrgType.SERVICE_ORG) == {submitted_org.name}

    html = names_in(client.get(REGISTRY, {"org_type": OrgType.SOCIAL_GROUP, "grade": "3A", "p": "1"}))
    # the button POSTs to the export with the list's own query (Wagtail's w-action)
    assert 'data-w-action-url-value="/admin/orgs/export/?org_type=social_group&amp;grade=3A"' in html
    assert "导出 Excel" in html


def test_region_filter_offers_only_the_users_subtree(client, manager, regions, three_districts):
    client.force_login(manager)
    html = names_in(client.get(REGISTRY))
    assert f'<option value="{regions["gulou"].pk}">' in html
    assert f'<option value="{regions["huarong"].pk}">' not in html
    # asking for another district's region is an error, never a way to see it
    html = names_in(client.get(REGISTRY, {"region": regions["huarong"].pk}))
    assert three_districts["huarong"].name not in html
    assert "error-message" in html


def test_registry_is_paginated_by_fifty(client, manager, regions):
    _bulk_orgs(regions["fenghuang"], 0, 51)
    client.force_login(manager)
    html = names_in(client.get(REGISTRY))
    assert html.count('<td class="title">') == 50
    assert "51 社会组织" in html
    assert names_in(client.get(REGISTRY, {"p": 2})).count('<td class="title">') == 1
    # the page links keep the filters
    assert 'href="?status=submitted&amp;p=2"' in names_in(client.get(REGISTRY, {"status": "submitted"}))


def test_auditor_sees_the_registry_and_the_export_link(client, regions, three_districts):
    client.force_login(staff(Role.AUDITOR, regions["city"]))
    html = names_in(client.get(REGISTRY))
    assert three_districts["huarong"].name in html
    assert "导出 Excel" in html


def test_finance_sees_no_export_link(client, regions, three_districts):
    client.force_login(staff(Role.FINANCE, regions["city"]))
    html = names_in(client.get(REGISTRY))
    assert three_districts["huarong"].name in html
    assert "导出 Excel" not in html


# ---- review queue ------------------------------------------------------------------------------


def test_queue_lists_submitted_organisations_oldest_first_with_days_waiting(client, manager, regions):
    newer, _ = submitted(regions["fenghuang"], name="凤凰街道向日葵青少年成长服务中心")
    older, _ = submitted(regions["gulou"], name="古楼街道巾帼妇女发展服务中心")
    Organisation.objects.filter(pk=older.pk).update(submitted_at=timezone.now() - datetime.timedelta(days=9))
    elsewhere, _ = submitted(regions["huarong_town"], name="华容镇暖冬困难家庭帮扶服务中心")
    OrganisationFactory(name="凤凰街道草稿中的组织", region=regions["fenghuang"])
    client.force_login(manager)
    html = names_in(client.get(QUEUE))
    assert html.index(older.name) < html.index(newer.name)
    assert elsewhere.name not in html
    assert "草稿中的组织" not in html
    assert "9 天" in html
    assert "0 天" in html


def test_queue_flags_similar_names(client, manager, regions):
    # another district's: named in the flag because it is public (a draft there would not be)
    OrganisationFactory(
        name="鄂州市凤凰街道老宝贝为老服务中心", region=regions["huarong_town"], status=OrganisationStatus.VERIFIED
    )
    copy, _ = submitted(regions["fenghuang"], name="鄂州市凤凰街道老宝贝为老服务中心（筹）")
    unique, _ = submitted(regions["gulou"], name="古楼街道红色物业小区治理促进会")
    client.force_login(manager)
    response = client.get(QUEUE)
    rows = {o.pk: o for o in response.context["page_obj"].object_list}
    closest, score = rows[copy.pk].similar_name
    assert closest == "鄂州市凤凰街道老宝贝为老服务中心" and score >= 95
    assert rows[unique.pk].similar_name is None
    assert names_in(response).count("疑似重名</span>") == 1


# ---- similar names -----------------------------------------------------------------------------


def test_similar_organisations_finds_close_names_only(regions):
    org = OrganisationFactory(name="鄂州市凤凰街道老宝贝为老服务中心", region=regions["fenghuang"])
    same_brand = OrganisationFactory(name="鄂州市古楼街道老宝贝为老服务中心", region=regions["huarong_town"])
    full_width = OrganisationFactory(name="鄂州市 凤凰街道 老宝贝为老服务中心(筹)", region=regions["gulou"])
    OrganisationFactory(name="鄂州市凤凰街道小候鸟留守儿童关爱中心", region=regions["fenghuang"])
    OrganisationFactory(name="华容镇海马爸比亲子成长协会", region=regions["huarong_town"])

    city = staff(Role.CALL_MANAGER, regions["city"])
    found = similar_organisations(org, city)
    assert [o.pk for o in found] == [full_width.pk, same_brand.pk]
    assert all(85 <= o.similarity <= 100 for o in found)
    assert found[0].similarity > found[1].similarity
    assert similar_organisations(org, city, limit=1) == found[:1]
    assert similar_name_flags([org], city)[org.pk][0] == full_width.name


def test_similar_organisations_of_a_unique_name_is_empty(regions):
    org = OrganisationFactory(name="鄂州市绿水河湖保护协会", region=regions["fenghuang"])
    OrganisationFactory(name="鄂州市书香社区阅读服务中心", region=regions["fenghuang"])
    city = staff(Role.CALL_MANAGER, regions["city"])
    assert similar_organisations(org, city) == []
    assert similar_name_flags([org], city) == {}


# ---- review page -------------------------------------------------------------------------------


def test_review_page_shows_the_whole_file(client, manager, regions):
    org, leader = submitted(regions["fenghuang"], name="凤凰街道海马爸比亲子成长服务中心")
    finance = UserFactory(name="钱会计")
    Membership.objects.create(organisation=org, user=finance, role=Membership.Role.FINANCE)
    # returned once for a better charter: the first version becomes history
    services.organisation_return(org=org, by=manager, reason="章程缺少理事会产生办法。")
    upload = pdf_upload("章程-修订.pdf")
    upload.kind = "pdf"
    services.document_upload(org=org, by=leader, kind=DocumentKind.CHARTER, upload=upload)
    services.organisation_submit(org=org, by=leader)
    client.force_login(manager)
    response = client.get(review_url(org))
    assert response.status_code == 200
    html = names_in(response)
    for text in (org.name, org.uscc, org.legal_representative, org.address, "鄂州市鄂城区凤凰街道", org.contact_phone):
        assert text in html
    charter_v2 = org.documents.get(kind=DocumentKind.CHARTER, is_current=True)
    charter_v1 = org.documents.get(kind=DocumentKind.CHARTER, is_current=False)
    assert f'<iframe src="/admin/orgs/review/{org.pk}/documents/{charter_v2.pk}/#' in html
    assert f'href="/me/orgs/{org.pk}/documents/{charter_v1.pk}/"' in html  # older version listed
    assert "历史版本" in html
    assert "办理记录" in html and "理由：章程缺少理事会产生办法。" in html
    assert leader.name in html and "钱会计" in html
    assert "组织登记信息尚未通过审核" in html  # eligibility reasons
    assert "没有年检记录" in html
    assert "审核通过" in html and "退回补正" in html
    assert "暂停</button>" not in html


def test_staff_in_scope_can_open_the_documents_inline(client, manager, regions):
    org, _ = submitted(regions["fenghuang"])
    doc = org.documents.first()
    client.force_login(manager)
    preview = client.get(f"/admin/orgs/review/{org.pk}/documents/{doc.pk}/")
    assert preview.status_code == 200
    assert preview["Content-Type"] == "application/pdf"
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    assert b"".join(preview.streaming_content).startswith(b"%PDF-")
    assert client.get(f"/me/orgs/{org.pk}/documents/{doc.pk}/").status_code == 200
    client.force_login(staff(Role.AUDITOR, regions["echeng"]))
    assert client.get(f"/me/orgs/{org.pk}/documents/{doc.pk}/").status_code == 200


def test_verify_from_the_review_page(client, manager, regions):
    org, leader = submitted(regions["fenghuang"])
    contact = UserFactory()
    Membership.objects.create(organisation=org, user=contact, role=Membership.Role.CONTACT)
    client.force_login(manager)
    response = client.post(action_url(org, "verify"), {"reason-reason": "材料齐全，信息属实。"}, follow=True)
    assert response.redirect_chain == [(review_url(org), 302)]
    assert "已审核通过" in names_in(response)
    org.refresh_from_db()
    assert org.status == OrganisationStatus.VERIFIED
    assert org.verified_at is not None
    log = StateLog.objects.for_(org).latest("timestamp")
    assert (log.source_state, log.state, log.by, log.description) == (
        "submitted",
        "verified",
        manager,
        "材料齐全，信息属实。",
    )
    notified = set(Notification.objects.filter(title__contains="已通过审核").values_list("recipient", flat=True))
    assert notified == {leader.pk, contact.pk}


def test_return_with_a_reason_reaches_the_applicant(client, manager, regions):
    org, leader = submitted(regions["fenghuang"])
    reason = "章程缺少理事会产生办法，请上传最新核准的章程。"
    client.force_login(manager)
    response = client.post(action_url(org, "return"), {"reason-reason": reason})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.status == OrganisationStatus.RETURNED
    assert org.status_reason == reason
    log = StateLog.objects.for_(org).latest("timestamp")
    assert (log.state, log.by, log.description) == ("returned", manager, reason)
    note = Notification.objects.get(recipient=leader, title__contains="退回补正")
    assert reason in note.body
    assert note.url == f"/me/orgs/{org.pk}/"
    client.force_login(leader)
    assert reason in client.get(f"/me/orgs/{org.pk}/").content.decode()


def test_return_without_a_reason_is_refused_and_changes_nothing(client, manager, regions):
    org, _ = submitted(regions["fenghuang"])
    logs, notes = StateLog.objects.count(), Notification.objects.count()
    client.force_login(manager)
    response = client.post(action_url(org, "return"), {"reason-reason": "   "})
    assert response.status_code == 400
    assert "请填写理由，申请单位将看到这段说明。" in names_in(response)
    org.refresh_from_db()
    assert org.status == OrganisationStatus.SUBMITTED
    assert (StateLog.objects.count(), Notification.objects.count()) == (logs, notes)


def test_an_action_the_status_does_not_allow_is_refused(client, manager, regions):
    org = verified(regions["fenghuang"])
    client.force_login(manager)
    response = client.post(action_url(org, "verify"), {"reason-reason": ""})
    assert response.status_code == 400
    assert "当前状态为“已认证”，不能执行“审核通过”。" in names_in(response)


def test_suspend_reinstate_and_revoke(client, manager, regions):
    org = verified(regions["fenghuang"])
    client.force_login(manager)
    html = names_in(client.get(review_url(org)))
    assert "暂停</button>" in html and "撤销</button>" in html and "审核通过</button>" not in html

    client.post(action_url(org, "suspend"), {"reason-reason": "连续两年未参加年检。"})
    org.refresh_from_db()
    assert org.status == OrganisationStatus.SUSPENDED
    assert "恢复</button>" in names_in(client.get(review_url(org)))

    client.post(action_url(org, "reinstate"), {"reason-reason": ""})
    org.refresh_from_db()
    assert org.status == OrganisationStatus.VERIFIED

    client.post(action_url(org, "revoke"), {"reason-reason": "已被登记管理机关注销登记。"})
    org.refresh_from_db()
    assert org.status == OrganisationStatus.REVOKED
    assert [log.state for log in StateLog.objects.for_(org).order_by("timestamp", "pk")][-3:] == [
        "suspended",
        "verified",
        "revoked",
    ]


@pytest.mark.parametrize("approve", [True, False])
def test_change_request_decision(client, manager, regions, approve):
    org = verified(regions["fenghuang"], name="凤凰街道老宝贝为老服务中心")
    leader = org.memberships.get().user
    services.change_request_create(
        org=org,
        by=leader,
        name="凤凰街道老宝贝社会工作服务中心",
        org_type=org.org_type,
        uscc=org.uscc,
        reason="经登记管理机关核准更名。",
    )
    client.force_login(manager)
    html = names_in(client.get(review_url(org)))
    assert (
        "登记事项变更申请" in html and "凤凰街道老宝贝社会工作服务中心" in html and "经登记管理机关核准更名。" in html
    )

    action = "change-approve" if approve else "change-reject"
    response = client.post(action_url(org, action), {"change-note": "" if approve else "未见核准文件。"})
    assert response.status_code == 302
    req = LegalChangeRequest.objects.get(organisation=org)
    org.refresh_from_db()
    assert req.state == ("approved" if approve else "rejected")
    assert req.decided_by == manager
    assert org.name == ("凤凰街道老宝贝社会工作服务中心" if approve else "凤凰街道老宝贝为老服务中心")
    assert Notification.objects.filter(recipient=leader, title__startswith="登记事项变更").exists()


def test_rejecting_a_change_needs_a_note(client, manager, regions):
    org = verified(regions["fenghuang"])
    services.change_request_create(
        org=org,
        by=org.memberships.get().user,
        name=org.name + "（更名）",
        org_type=org.org_type,
        uscc=org.uscc,
        reason="更名",
    )
    client.force_login(manager)
    response = client.post(action_url(org, "change-reject"), {"change-note": ""})
    assert response.status_code == 400
    assert "不同意变更时请填写理由。" in names_in(response)
    assert LegalChangeRequest.objects.get(organisation=org).state == "pending"


def test_recording_inspection_grade_and_list_entry(client, manager, regions):
    org = verified(regions["fenghuang"])
    client.force_login(manager)
    last_year = timezone.localdate().year - 1
    response = client.post(
        action_url(org, "inspection"),
        {"inspection-year": last_year, "inspection-result": "passed", "inspection-note": ""},
    )
    assert response.status_code == 302
    client.post(action_url(org, "grade"), {"grade-grade": "4A", "grade-awarded_on": "2024-03-01"})
    listed_on = timezone.localdate() - datetime.timedelta(days=30)
    client.post(
        action_url(org, "list-entry"),
        {
            "list_entry-kind": ListEntry.Kind.ABNORMAL,
            "list_entry-listed_on": listed_on.isoformat(),
            "list_entry-reason": "未报送年报",
        },
    )
    org.refresh_from_db()
    assert (org.latest_inspection_year, org.latest_inspection_result, org.latest_grade) == (last_year, "passed", "4A")
    entry = ListEntry.objects.get(organisation=org)
    assert entry.created_by == manager
    html = names_in(client.get(review_url(org)))
    assert f"{last_year}年度" in html and "4A" in html and "未报送年报" in html
    assert "被列入活动异常名录" in html  # eligibility reason


def test_invalid_fact_form_shows_the_error_and_records_nothing(client, manager, regions):
    org = verified(regions["fenghuang"])
    client.force_login(manager)
    response = client.post(
        action_url(org, "list-entry"),
        {
            "list_entry-kind": ListEntry.Kind.BAN,
            "list_entry-listed_on": "2026-01-10",
            "list_entry-removed_on": "2025-01-01",
        },
    )
    assert response.status_code == 400
    assert "移出日期不能早于列入日期。" in names_in(response)
    assert not ListEntry.objects.filter(organisation=org).exists()


# ---- read-only roles and scope ------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.FINANCE])
def test_read_only_roles_see_the_page_but_cannot_act(client, regions, role):
    org, _ = submitted(regions["fenghuang"])
    client.force_login(staff(role, regions["city"]))
    response = client.get(review_url(org))
    assert response.status_code == 200
    html = names_in(response)
    assert org.name in html and "只读" in html
    assert f'action="/admin/orgs/review/{org.pk}/' not in html  # no action forms
    assert "审核通过</button>" not in html
    for action, data in [
        ("verify", {"reason-reason": ""}),
        ("return", {"reason-reason": "不行"}),
        ("inspection", {"inspection-year": 2024, "inspection-result": "passed"}),
    ]:
        response = client.post(action_url(org, action), data)
        assert response.status_code == 403
        assert "只能查看" in names_in(response)
    org.refresh_from_db()
    assert org.status == OrganisationStatus.SUBMITTED
    assert not org.inspections.exists()


def test_out_of_region_staff_get_404_for_the_page_and_every_action(client, regions):
    org, _ = submitted(regions["huarong_town"])
    doc = org.documents.first()
    client.force_login(staff(Role.CALL_MANAGER, regions["echeng"]))
    assert client.get(review_url(org)).status_code == 404
    for action in ("verify", "return", "suspend", "change-approve", "inspection", "grade", "list-entry"):
        assert client.post(action_url(org, action), {"reason-reason": "越权"}).status_code == 404
    assert client.get(f"/admin/orgs/review/{org.pk}/documents/{doc.pk}/").status_code == 404
    assert client.get(f"/me/orgs/{org.pk}/documents/{doc.pk}/").status_code == 403
    org.refresh_from_db()
    assert org.status == OrganisationStatus.SUBMITTED


def test_unknown_action_is_404(client, manager, regions):
    org, _ = submitted(regions["fenghuang"])
    client.force_login(manager)
    assert client.post(action_url(org, "delete"), {}).status_code == 404


def test_actions_must_be_posted(client, manager, regions):
    org, _ = submitted(regions["fenghuang"])
    client.force_login(manager)
    assert client.get(action_url(org, "verify")).status_code == 405


def test_review_page_warns_about_similar_names(client, manager, regions):
    twin = verified(regions["huarong_town"], name="鄂州市凤凰街道老宝贝为老服务中心")
    neighbour = OrganisationFactory(name="鄂州市凤凰街道老宝贝为老服务中心（分部）", region=regions["gulou"])
    org, _ = submitted(regions["fenghuang"], name="鄂州市凤凰街道老宝贝为老服务中心（筹）")
    client.force_login(manager)
    html = names_in(client.get(review_url(org)))
    assert "名称相近的组织" in html
    assert twin.name in html and "97%" in html
    # an organisation outside the user's scope is named, but not linked
    assert f'href="{review_url(twin)}"' not in html
    assert f'href="{review_url(neighbour)}"' in html
    assert "审核通过</button>" in html  # a warning, not a block


# ---- query counts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, data",
    [
        (REGISTRY, None),
        (REGISTRY, {"status": "submitted", "grade": "3A", "inspection": "passed", "q": "测试"}),
        (REGISTRY, {"org_type": "service_org", "ordering": "name", "p": "2"}),
        (REGISTRY, {"grade": "none", "ordering": "-region__path"}),
        (QUEUE, None),
        (QUEUE, {"q": "测试", "org_type": "service_org", "p": "3"}),
    ],
)
def test_list_queries_do_not_grow_with_the_registry(client, manager, regions, url, data):
    data = dict(data, region=regions["fenghuang"].pk) if data else None
    client.force_login(manager)
    _bulk_orgs(regions["fenghuang"], 0, 10)
    with_ten = page_queries(client, url, data)
    _bulk_orgs(regions["fenghuang"], 10, 990)
    with_thousand = page_queries(client, url, data)
    assert with_ten == with_thousand
    assert with_thousand <= MAX_QUERIES
    print(f"{url} {data or ''}: {with_thousand} queries")


# Every Wagtail admin page pays for its shell before the view's own work: the session and
# the user, the user's permissions, Wagtail's user profile and locales, and the sidebar's
# page/collection permission checks (plus whatever other apps' menu items ask).
SHELL_TABLES = (
    "django_session",
    "accounts_user",
    "auth_permission",
    "wagtailusers_userprofile",
    "wagtailcore_locale",
    "wagtailcore_grouppagepermission",
    "wagtailcore_groupcollectionpermission",
    "core_backgroundjob",
)


def _own_queries(queries) -> list[str]:
    def table(sql):
        found = re.search(r'\bFROM "(\w+)"', sql)
        return found.group(1) if found else ""

    return [q["sql"] for q in queries if table(q["sql"]) not in SHELL_TABLES]


def _review_page_queries(client, org):
    client.get(review_url(org))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(review_url(org))
    assert response.status_code == 200
    return ctx.captured_queries


def test_review_page_queries_are_bounded_and_do_not_grow_with_the_file(client, manager, regions):
    small, _ = submitted(regions["fenghuang"], name="凤凰街道小候鸟留守儿童关爱中心")
    big, leader = submitted(regions["gulou"], name="古楼街道夕阳红居家养老服务中心")
    superuser = UserFactory(is_superuser=True)
    # a big file: more members, more versions, facts of every kind, a pending change,
    # namesakes, and a thousand other organisations to compare names with
    services.organisation_verify(org=big, by=superuser)
    for year in (2022, 2023, 2024):
        services.inspection_record(org=big, by=superuser, year=year, result="passed")
    services.grade_record(org=big, by=superuser, grade="3A", awarded_on=datetime.date(2023, 1, 1))
    services.list_entry_add(org=big, by=superuser, kind=ListEntry.Kind.ABNORMAL, listed_on=datetime.date(2020, 1, 1))
    for _ in range(3):
        Membership.objects.create(organisation=big, user=UserFactory(), role=Membership.Role.CONTACT)
    for n in range(2):
        upload = pdf_upload(f"银行开户证明{n}.pdf")
        upload.kind = "pdf"
        services.document_upload(org=big, by=leader, kind=DocumentKind.BANK_PROOF, upload=upload)
    services.change_request_create(
        org=big, by=leader, name="古楼街道夕阳红养老服务中心", org_type=big.org_type, uscc=big.uscc, reason="更名"
    )
    OrganisationFactory(name="古楼街道夕阳红居家养老服务中心（筹）", region=regions["huarong_town"])
    OrganisationFactory(name="凤凰街道夕阳红居家养老服务中心", region=regions["fenghuang"])
    _bulk_orgs(regions["huarong_town"], 0, 1000)
    client.force_login(manager)

    small_queries = _review_page_queries(client, small)
    big_queries = _review_page_queries(client, big)
    html = client.get(review_url(big)).content.decode()
    assert "名称相近的组织" in html and "登记事项变更申请" in html and "2022年度" in html
    assert len(big_queries) == len(small_queries) + 2  # the pending change and the namesakes' details
    own = _own_queries(big_queries)
    assert len(own) <= MAX_QUERIES, "\n".join(own)
    print(f"review page: {len(big_queries)} queries, {len(own)} of them the page's own")


@pytest.mark.django_db
def test_grade_filter_ignores_an_expired_grade(client, regions):
    import datetime

    from orgs.filters import RegistryFilterSet

    def filter_registry(qs, data):
        return RegistryFilterSet(data, queryset=qs).qs

    from orgs.models import EvaluationGrade, Organisation

    today = datetime.date.today()
    fresh = OrganisationFactory(latest_grade="4A")
    EvaluationGrade.objects.create(organisation=fresh, grade="4A", awarded_on=today - datetime.timedelta(days=365))
    stale = OrganisationFactory(latest_grade="4A")
    EvaluationGrade.objects.create(organisation=stale, grade="4A", awarded_on=today - datetime.timedelta(days=6 * 366))
    assert list(filter_registry(Organisation.objects.all(), {"grade": "4A"})) == [fresh]
    assert stale in filter_registry(Organisation.objects.all(), {"grade": "none"})
