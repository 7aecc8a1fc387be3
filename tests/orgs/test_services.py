"""The organisation lifecycle, driven through orgs.services as the views and admin do.

Each transition: who may run it, what the database holds afterwards (status, one audit
row), and who hears about it (in-site notification and e-mail after commit)."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django_fsm_log.models import StateLog

from accounts.roles import Role
from core.files import validate_upload
from core.models import Notification
from core.workflow import CREATED, WorkflowError
from orgs import services
from orgs.models import (
    DocumentKind,
    Invitation,
    LegalChangeRequest,
    Membership,
    Organisation,
    OrganisationDocument,
    OrgType,
)
from tests.factories import (
    OrganisationFactory,
    applicant,
    make_uscc,
    organisation_with_leader,
    pdf_upload,
    staff,
)

Status = Organisation.Status


def checked_pdf(name="登记证书.pdf"):
    """An upload as SafeFileField hands it to the service (its real kind sniffed)."""
    upload = pdf_upload(name)
    upload.kind = validate_upload(upload)
    return upload


def upload_required_documents(org, by):
    for kind in services.REQUIRED_DOCUMENTS[org.org_type]:
        services.document_upload(org=org, by=by, kind=kind, upload=checked_pdf())


def logs_for(org):
    """The transitions' rows of an organisation's history (its creation row aside)."""
    return StateLog.objects.for_(org).exclude(transition=CREATED).order_by("pk")


def fresh(org):
    return Organisation.objects.get(pk=org.pk)


@pytest.fixture
def manager(regions):
    """业务主管 of 鄂城区, whose subtree holds the organisation (凤凰街道)."""
    return staff(Role.CALL_MANAGER, regions["echeng"], email="manager@example.org")


@pytest.fixture
def org_leader(regions):
    return organisation_with_leader(region=regions["fenghuang"])


@pytest.fixture
def org(org_leader):
    return org_leader[0]


@pytest.fixture
def leader(org_leader):
    return org_leader[1]


@pytest.fixture
def contact(org):
    user = applicant()
    Membership.objects.create(organisation=org, user=user, role=Membership.Role.CONTACT)
    return user


def submitted(org, leader):
    upload_required_documents(org, leader)
    services.organisation_submit(org=org, by=leader)
    return fresh(org)


def verified(org, leader, manager):
    services.organisation_verify(org=submitted(org, leader), by=manager)
    return fresh(org)


def suspended(org, leader, manager):
    services.organisation_suspend(org=verified(org, leader, manager), by=manager, reason="年检逾期未参加")
    return fresh(org)


# ---- submit ----------------------------------------------------------------------------------


def test_submit_is_refused_until_the_required_documents_are_uploaded(org, leader):
    with pytest.raises(WorkflowError) as exc:
        services.organisation_submit(org=org, by=leader)
    assert exc.value.message == "请先上传以下材料再提交：登记证书、章程。"

    services.document_upload(org=org, by=leader, kind=DocumentKind.REGISTRATION_CERTIFICATE, upload=checked_pdf())
    with pytest.raises(WorkflowError, match="请先上传以下材料再提交：章程。"):
        services.organisation_submit(org=org, by=leader)

    assert fresh(org).status == Status.DRAFT
    assert not logs_for(org).exists()


def test_a_filed_community_group_needs_its_filing_certificate(regions):
    group, leader = organisation_with_leader(
        org_type=OrgType.COMMUNITY_FILED, uscc=None, filing_number="鄂城民备2024-001", sponsor_name="凤凰街道办事处"
    )
    with pytest.raises(WorkflowError, match="备案证明"):
        services.organisation_submit(org=group, by=leader)


def test_a_member_submits_and_the_region_staff_are_told(
    org, leader, manager, regions, django_capture_on_commit_callbacks, mailoutbox
):
    other_district = staff(Role.CALL_MANAGER, regions["huarong"])
    upload_required_documents(org, leader)

    with django_capture_on_commit_callbacks(execute=True):
        services.organisation_submit(org=org, by=leader)

    org.refresh_from_db()
    assert org.status == Status.SUBMITTED
    assert org.submitted_at is not None
    [log] = logs_for(org)
    assert (log.by, log.source_state, log.state, log.transition) == (leader, "draft", "submitted", "submit")
    assert Notification.objects.get(recipient=manager).title == f"待审核：{org.name}"
    assert not Notification.objects.filter(recipient=other_district).exists()
    assert [m.to for m in mailoutbox] == [["manager@example.org"]]


def test_a_contact_person_may_submit(org, leader, contact):
    upload_required_documents(org, leader)
    services.organisation_submit(org=org, by=contact)
    assert fresh(org).status == Status.SUBMITTED


@pytest.mark.parametrize("who", ["stranger", "anonymous", "finance_member", "staff"])
def test_submit_is_refused_for_anyone_but_an_editing_member(org, leader, manager, who):
    upload_required_documents(org, leader)
    if who == "stranger":
        user = applicant()
    elif who == "anonymous":
        user = AnonymousUser()
    elif who == "finance_member":
        user = applicant()
        Membership.objects.create(organisation=org, user=user, role=Membership.Role.FINANCE)
    else:
        user = manager
    with pytest.raises(PermissionDenied, match="您不是该组织的成员"):
        services.organisation_submit(org=org, by=user)
    assert fresh(org).status == Status.DRAFT
    assert not logs_for(org).exists()


# ---- staff transitions ---------------------------------------------------------------------

# (service, state it starts from, reason, target status, title of the members' notification)
TRANSITIONS = [
    (services.organisation_verify, "submitted", "", Status.VERIFIED, "已通过审核"),
    (services.organisation_return, "submitted", "章程扫描件不清晰，请重新上传。", Status.RETURNED, "被退回补正"),
    (services.organisation_suspend, "verified", "连续两年未参加年检。", Status.SUSPENDED, "已被暂停"),
    (services.organisation_reinstate, "suspended", "已补齐年检。", Status.VERIFIED, "已恢复"),
    (services.organisation_revoke, "verified", "登记证书已被吊销。", Status.REVOKED, "已被撤销"),
    (services.organisation_revoke, "suspended", "登记证书已被吊销。", Status.REVOKED, "已被撤销"),
]
SETUP = {"submitted": submitted, "verified": verified, "suspended": suspended}


def in_state(state, org, leader, manager):
    setup = SETUP[state]
    return setup(org, leader) if state == "submitted" else setup(org, leader, manager)


@pytest.mark.parametrize(("service", "source", "reason", "target", "title"), TRANSITIONS)
def test_staff_transition_logs_once_and_notifies_the_members(
    service,
    source,
    reason,
    target,
    title,
    org,
    leader,
    contact,
    manager,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    org = in_state(source, org, leader, manager)
    logs_before = logs_for(org).count()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        service(org=org, by=manager, reason=reason)

    org.refresh_from_db()
    assert org.status == target
    assert org.status_reason == reason
    assert logs_for(org).count() == logs_before + 1
    log = logs_for(org).last()
    assert (log.by, log.source_state, log.state) == (manager, source, target)
    assert (log.description or "") == reason
    for member in (leader, contact):
        note = Notification.objects.filter(recipient=member).latest("pk")
        assert note.title == f"{org.name} {title}"
        assert note.url == f"/me/orgs/{org.pk}/"
        if reason:
            assert f"理由：{reason}" in note.body
    assert sorted(m.to[0] for m in mailoutbox) == sorted([leader.email, contact.email])
    assert all(title in m.subject for m in mailoutbox)


def test_verify_records_when(org, leader, manager):
    org = verified(org, leader, manager)
    assert org.verified_at is not None


def test_a_city_level_manager_may_act_on_the_districts_below(org, leader, regions):
    city_manager = staff(Role.CALL_MANAGER, regions["city"])
    services.organisation_verify(org=submitted(org, leader), by=city_manager)
    assert fresh(org).status == Status.VERIFIED


@pytest.mark.parametrize(
    "service", [services.organisation_return, services.organisation_suspend, services.organisation_revoke]
)
@pytest.mark.parametrize("reason", ["", "   "])
def test_returning_suspending_and_revoking_need_a_reason(service, reason, org, leader, manager):
    org = submitted(org, leader) if service is services.organisation_return else verified(org, leader, manager)
    status, logs = org.status, logs_for(org).count()
    with pytest.raises(WorkflowError, match="请填写理由"):
        service(org=org, by=manager, reason=reason)
    assert fresh(org).status == status
    assert logs_for(org).count() == logs


@pytest.mark.parametrize("role", [Role.BASE_OPERATOR, Role.AUDITOR, Role.FINANCE, Role.APPLICANT, Role.REVIEWER])
def test_verify_is_refused_for_other_roles_in_the_region(role, org, leader, regions):
    org = submitted(org, leader)
    with pytest.raises(PermissionDenied, match="您无权审核该组织"):
        services.organisation_verify(org=org, by=staff(role, regions["echeng"]))
    assert fresh(org).status == Status.SUBMITTED
    assert logs_for(org).count() == 1


@pytest.mark.parametrize(
    "service", [services.organisation_verify, services.organisation_return], ids=["verify", "return"]
)
@pytest.mark.parametrize("who", ["other_district_manager", "leader", "anonymous"])
def test_staff_transitions_are_refused_outside_scope(service, who, org, leader, regions):
    org = submitted(org, leader)
    user = {
        "other_district_manager": staff(Role.CALL_MANAGER, regions["huarong"]),
        "leader": leader,
        "anonymous": AnonymousUser(),
    }[who]
    with pytest.raises(PermissionDenied):
        service(org=org, by=user, reason="理由")
    assert fresh(org).status == Status.SUBMITTED
    assert logs_for(org).count() == 1
    assert not Notification.objects.filter(recipient=leader).exists()


@pytest.mark.parametrize("role", [Role.BASE_OPERATOR, Role.AUDITOR, Role.FINANCE])
def test_suspend_reinstate_revoke_are_refused_for_other_roles(role, org, leader, manager, regions):
    org = verified(org, leader, manager)
    user = staff(role, regions["echeng"])
    for service in (services.organisation_suspend, services.organisation_revoke):
        with pytest.raises(PermissionDenied):
            service(org=org, by=user, reason="理由")
    services.organisation_suspend(org=org, by=manager, reason="理由")
    with pytest.raises(PermissionDenied):
        services.organisation_reinstate(org=fresh(org), by=user)
    assert fresh(org).status == Status.SUSPENDED


def test_a_transition_from_the_wrong_state_is_refused_in_chinese(org, manager):
    with pytest.raises(WorkflowError) as exc:
        services.organisation_verify(org=org, by=manager)
    assert exc.value.message == "当前状态为“草稿”，不能执行“审核通过”。"
    assert fresh(org).status == Status.DRAFT
    assert not logs_for(org).exists()


def test_return_then_resubmit(org, leader, manager):
    org = submitted(org, leader)
    services.organisation_return(org=org, by=manager, reason="请补充法定代表人身份证明。")
    org = fresh(org)
    assert (org.status, org.status_reason) == (Status.RETURNED, "请补充法定代表人身份证明。")

    services.document_upload(org=org, by=leader, kind=DocumentKind.LEGAL_REP_ID, upload=checked_pdf())
    services.organisation_submit(org=org, by=leader)

    org = fresh(org)
    assert org.status == Status.SUBMITTED
    assert org.status_reason == ""
    assert [(log.source_state, log.state) for log in logs_for(org)] == [
        ("draft", "submitted"),
        ("submitted", "returned"),
        ("returned", "submitted"),
    ]


# ---- two staff at once ----------------------------------------------------------------------


@pytest.mark.parametrize("first", ["verify", "return"])
def test_two_staff_acting_at_once_only_one_wins(first, org, leader, manager, regions):
    org = submitted(org, leader)
    colleague = staff(Role.CALL_MANAGER, regions["echeng"])
    mine, theirs = fresh(org), fresh(org)  # both loaded while 待审核
    actions = {
        "verify": lambda o, by: services.organisation_verify(org=o, by=by),
        "return": lambda o, by: services.organisation_return(org=o, by=by, reason="请补正。"),
    }
    second = "return" if first == "verify" else "verify"

    actions[first](mine, manager)
    with pytest.raises(WorkflowError) as exc:
        actions[second](theirs, colleague)

    winner = Status.VERIFIED if first == "verify" else Status.RETURNED
    assert exc.value.message == (f"该记录刚被其他人处理，当前状态为“{winner.label}”。请刷新后查看，无需重复操作。")
    org = fresh(org)
    assert org.status == winner
    assert org.status_reason == ("" if first == "verify" else "请补正。")
    new_logs = list(logs_for(org))[1:]
    assert [(log.by, log.state) for log in new_logs] == [(manager, winner)]
    assert Notification.objects.filter(recipient=leader).count() == 1


# ---- profile edits and legal changes -------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("name", "鄂州市新名称社会工作服务中心", "名称"),
        ("org_type", OrgType.FOUNDATION, "类型"),
        ("uscc", make_uscc(900001), "统一社会信用代码"),
    ],
)
def test_legal_fields_of_a_verified_organisation_cannot_be_edited(field, value, label, org, leader, manager):
    org = verified(org, leader, manager)
    before = getattr(org, field)
    with pytest.raises(ValidationError) as exc:
        services.organisation_update(org=org, by=leader, data={field: value})
    assert exc.value.messages == [f"已认证组织的{label}需通过“登记事项变更”申请，经审核后生效。"]
    assert getattr(fresh(org), field) == before


def test_contact_fields_of_a_verified_organisation_can_be_edited(org, leader, manager):
    org = verified(org, leader, manager)
    services.organisation_update(
        org=org,
        by=leader,
        data={"name": org.name, "contact_name": "李四", "contact_phone": "13912345678", "address": "凤凰街道2号"},
    )
    org = fresh(org)
    assert (org.contact_name, org.contact_phone, org.address, org.status) == (
        "李四",
        "13912345678",
        "凤凰街道2号",
        Status.VERIFIED,
    )


def test_nothing_can_be_edited_while_under_review(org, leader):
    org = submitted(org, leader)
    with pytest.raises(ValidationError, match="组织当前状态为“待审核”，不能修改资料。"):
        services.organisation_update(org=org, by=leader, data={"contact_name": "李四"})
    assert fresh(org).contact_name == "张三"


def test_edits_are_refused_for_non_editors(org, manager):
    finance = applicant()
    Membership.objects.create(organisation=org, user=finance, role=Membership.Role.FINANCE)
    for user in (finance, applicant(), manager):
        with pytest.raises(PermissionDenied):
            services.organisation_update(org=org, by=user, data={"contact_name": "李四"})
    assert fresh(org).contact_name == "张三"


def request_change(org, leader, **overrides):
    fields = {
        "name": "鄂州市凤凰社会工作服务中心",
        "org_type": OrgType.SERVICE_ORG,
        "uscc": make_uscc(700001),
        "reason": "经登记管理机关核准更名。",
    } | overrides
    return services.change_request_create(org=org, by=leader, **fields)


def test_a_change_request_approved_updates_the_legal_fields(org, leader, manager, django_capture_on_commit_callbacks):
    org = verified(org, leader, manager)
    req = request_change(org, leader, uscc=make_uscc(700001).lower())
    assert req.uscc == make_uscc(700001)
    assert Notification.objects.filter(recipient=manager, title=f"登记事项变更：{org.name}").exists()

    with django_capture_on_commit_callbacks(execute=True):
        services.change_request_decide(req=req, by=manager, approve=True, note="")

    org = fresh(org)
    assert (org.name, org.uscc, org.status) == ("鄂州市凤凰社会工作服务中心", make_uscc(700001), Status.VERIFIED)
    req.refresh_from_db()
    assert (req.state, req.decided_by) == (LegalChangeRequest.State.APPROVED, manager)
    [log] = StateLog.objects.for_(req).exclude(transition=CREATED)
    assert (log.by, log.state) == (manager, "approved")
    assert Notification.objects.filter(recipient=leader, title="登记事项变更已同意").exists()


def test_a_change_request_rejected_needs_a_note_and_changes_nothing(org, leader, manager):
    org = verified(org, leader, manager)
    name = org.name
    req = request_change(org, leader)

    with pytest.raises(WorkflowError, match="不同意变更时请填写理由。"):
        services.change_request_decide(req=req, by=manager, approve=False, note="  ")
    assert LegalChangeRequest.objects.get(pk=req.pk).state == LegalChangeRequest.State.PENDING

    services.change_request_decide(req=req, by=manager, approve=False, note="未提供核准变更通知书。")
    req.refresh_from_db()
    assert (req.state, req.decision_note) == (LegalChangeRequest.State.REJECTED, "未提供核准变更通知书。")
    assert fresh(org).name == name
    note = Notification.objects.filter(recipient=leader).latest("pk")
    assert note.title == "登记事项变更未同意"
    assert "未提供核准变更通知书。" in note.body


def test_change_requests_are_refused_for_the_wrong_people_and_states(org, leader, contact, manager, regions):
    with pytest.raises(ValidationError, match="只有已认证的组织"):
        request_change(org, leader)
    org = verified(org, leader, manager)
    with pytest.raises(PermissionDenied):
        request_change(org, contact)
    req = request_change(org, leader)
    with pytest.raises(ValidationError, match="已有一份变更申请在审核中"):
        request_change(org, leader, name="另一个名称")
    for user in (staff(Role.CALL_MANAGER, regions["huarong"]), staff(Role.AUDITOR, regions["echeng"]), leader):
        with pytest.raises(PermissionDenied):
            services.change_request_decide(req=req, by=user, approve=True)
    assert LegalChangeRequest.objects.get(pk=req.pk).state == LegalChangeRequest.State.PENDING


def test_a_change_request_to_a_taken_uscc_is_refused(org, leader, manager):
    other = OrganisationFactory()
    org = verified(org, leader, manager)
    with pytest.raises(ValidationError) as exc:
        request_change(org, leader, uscc=other.uscc)
    assert "该统一社会信用代码已被其他组织登记" in " ".join(exc.value.messages)
    assert not LegalChangeRequest.objects.exists()


def test_approving_a_change_to_a_uscc_taken_meanwhile_is_refused(org, leader, manager):
    org = verified(org, leader, manager)
    req = request_change(org, leader)
    OrganisationFactory(uscc=req.uscc)  # registered by someone else while the request waited

    with pytest.raises(ValidationError) as exc:
        services.change_request_decide(req=req, by=manager, approve=True)
    assert "该统一社会信用代码已被其他组织登记" in " ".join(exc.value.messages)
    assert fresh(org).uscc != req.uscc
    assert LegalChangeRequest.objects.get(pk=req.pk).state == LegalChangeRequest.State.PENDING


# ---- create -------------------------------------------------------------------------------


def org_data(regions, **overrides):
    return {
        "name": "鄂州市澜湖社区老年服务中心",
        "org_type": OrgType.SERVICE_ORG,
        "uscc": make_uscc(500001),
        "legal_representative": "王五",
        "address": "鄂城区澜湖社区3号",
        "region": regions["fenghuang"],
        "contact_name": "王五",
        "contact_phone": "13711112222",
    } | overrides


def test_create_makes_a_draft_led_by_its_creator(regions):
    user = applicant()
    org = services.organisation_create(user=user, data=org_data(regions))
    assert (org.status, org.created_by) == (Status.DRAFT, user)
    assert Membership.objects.get(organisation=org).user == user
    assert Membership.objects.get(organisation=org).role == Membership.Role.LEADER


def test_create_with_a_duplicate_uscc_saves_nothing(regions):
    taken = OrganisationFactory()
    user = applicant()
    with pytest.raises(ValidationError) as exc:
        services.organisation_create(user=user, data=org_data(regions, uscc=taken.uscc))
    assert exc.value.message_dict["uscc"] == [
        "该统一社会信用代码已被其他组织登记。如确属本组织，请联系所在区域民政部门。"
    ]
    assert list(Organisation.objects.all()) == [taken]
    assert not Membership.objects.filter(user=user).exists()


def test_two_filed_groups_without_uscc_can_both_be_created(regions):
    data = org_data(
        regions,
        org_type=OrgType.COMMUNITY_FILED,
        uscc="",
        filing_number="鄂城民备2024-001",
        sponsor_name="澜湖社区居委会",
    )
    first = services.organisation_create(user=applicant(), data=data)
    second = services.organisation_create(user=applicant(), data=data | {"filing_number": "鄂城民备2024-002"})
    assert first.uscc is None
    assert second.uscc is None


def test_create_requires_a_logged_in_user(regions):
    with pytest.raises(PermissionDenied):
        services.organisation_create(user=AnonymousUser(), data=org_data(regions))
    assert not Organisation.objects.exists()


# ---- documents -----------------------------------------------------------------------------


def test_a_new_upload_becomes_v2_and_keeps_v1_as_history(org, leader):
    v1 = services.document_upload(org=org, by=leader, kind=DocumentKind.CHARTER, upload=checked_pdf("章程.pdf"))
    v2 = services.document_upload(org=org, by=leader, kind=DocumentKind.CHARTER, upload=checked_pdf("章程-修订.pdf"))

    rows = list(OrganisationDocument.objects.filter(organisation=org).order_by("version"))
    assert [(d.pk, d.version, d.is_current, d.original_name) for d in rows] == [
        (v1.pk, 1, False, "章程.pdf"),
        (v2.pk, 2, True, "章程-修订.pdf"),
    ]
    assert rows[0].file.name != rows[1].file.name
    assert rows[0].file.storage.exists(rows[0].file.name)
    assert (rows[1].file_kind, rows[1].uploaded_by) == ("pdf", leader)


def test_documents_cannot_change_under_review_or_by_outsiders(org, leader, manager):
    with pytest.raises(PermissionDenied):
        services.document_upload(org=org, by=applicant(), kind=DocumentKind.CHARTER, upload=checked_pdf())
    org = submitted(org, leader)
    with pytest.raises(ValidationError, match="组织当前状态为“待审核”，不能更换材料。"):
        services.document_upload(org=org, by=leader, kind=DocumentKind.CHARTER, upload=checked_pdf())
    assert OrganisationDocument.objects.filter(organisation=org, kind=DocumentKind.CHARTER).count() == 1


# ---- members -----------------------------------------------------------------------------


def test_an_invitation_by_mobile_is_accepted_by_the_owner_of_that_number(
    org, leader, django_capture_on_commit_callbacks, mailoutbox, sent_code
):
    invitee = applicant(mobile="13955556666")
    with django_capture_on_commit_callbacks(execute=True):
        inv = services.member_invite(org=org, by=leader, role=Membership.Role.FINANCE, mobile="13955556666")
    assert Notification.objects.get(recipient=invitee).title == f"{org.name} 邀请您加入"
    assert [m.to for m in mailoutbox] == [[invitee.email]]
    assert list(services.pending_invitations_for(invitee)) == [inv]

    membership = services.invitation_accept(invitation=inv, by=invitee, code=sent_code("13955556666"))

    assert (membership.organisation, membership.user, membership.role) == (org, invitee, Membership.Role.FINANCE)
    assert Invitation.objects.get(pk=inv.pk).accepted_at is not None
    assert not services.pending_invitations_for(invitee).exists()


def test_an_invitation_cannot_be_accepted_by_someone_else(org, leader):
    applicant(mobile="13955556666")
    inv = services.member_invite(org=org, by=leader, role=Membership.Role.CONTACT, mobile="13955556666")
    intruder = applicant()
    with pytest.raises(PermissionDenied, match="该邀请不是发给您的"):
        services.invitation_accept(invitation=inv, by=intruder, code="123456")
    with pytest.raises(PermissionDenied):
        services.invitation_accept(invitation=inv, by=AnonymousUser(), code="123456")
    assert not Membership.objects.filter(user=intruder).exists()
    assert Invitation.objects.get(pk=inv.pk).accepted_at is None


def test_an_invitation_cannot_be_accepted_twice(org, leader, sent_code):
    invitee = applicant(mobile="13955556666")
    inv = services.member_invite(org=org, by=leader, role=Membership.Role.CONTACT, mobile="13955556666")
    services.invitation_accept(invitation=inv, by=invitee, code=sent_code("13955556666"))
    with pytest.raises(PermissionDenied, match="已被接受"):
        services.invitation_accept(invitation=inv, by=invitee, code=sent_code("13955556666"))
    assert Membership.objects.filter(organisation=org, user=invitee).count() == 1


def test_only_the_leader_invites_and_not_twice(org, leader, contact):
    with pytest.raises(PermissionDenied):
        services.member_invite(org=org, by=contact, role=Membership.Role.CONTACT, mobile="13955556666")
    with pytest.raises(ValidationError, match="该用户已经是本组织成员。"):
        services.member_invite(org=org, by=leader, role=Membership.Role.CONTACT, mobile=contact.mobile)
    with pytest.raises(ValidationError, match="请填写被邀请人的手机号或电子邮箱。"):
        services.member_invite(org=org, by=leader, role=Membership.Role.CONTACT)
    with pytest.raises(ValidationError, match="11位中国大陆手机号码"):
        services.member_invite(org=org, by=leader, role=Membership.Role.CONTACT, mobile="12345")
    assert not Invitation.objects.exists()


# ---- eligibility facts -------------------------------------------------------------------


def test_facts_are_recorded_by_region_staff_and_kept_on_the_organisation(org, manager, regions):
    services.inspection_record(org=org, by=manager, year=2024, result="passed")
    services.grade_record(org=org, by=manager, grade="4A", awarded_on=datetime.date(2023, 6, 1))
    org = fresh(org)
    assert (org.latest_inspection_year, org.latest_inspection_result, org.latest_grade) == (2024, "passed", "4A")

    for user in (staff(Role.BASE_OPERATOR, regions["echeng"]), staff(Role.CALL_MANAGER, regions["huarong"])):
        with pytest.raises(PermissionDenied, match="您无权登记该组织的年检、评估或名录信息。"):
            services.inspection_record(org=org, by=user, year=2025, result="failed")
    assert fresh(org).latest_inspection_year == 2024
