"""Every action that changes an organisation. Each checks permission, validates, runs in
a transaction, writes the audit log (via core.workflow) and notifies after commit."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.roles import Role
from accounts.selectors import region_in_scope, staff_users_for_region
from core.services import notify
from core.workflow import WorkflowError, run_transition

from .models import (
    LEGAL_FIELDS,
    AnnualInspection,
    DocumentKind,
    EvaluationGrade,
    Invitation,
    LegalChangeRequest,
    ListEntry,
    Membership,
    Organisation,
    OrganisationDocument,
    OrganisationStatus,
    OrgType,
)

REQUIRED_DOCUMENTS = {
    OrgType.SOCIAL_GROUP: [DocumentKind.REGISTRATION_CERTIFICATE, DocumentKind.CHARTER],
    OrgType.SERVICE_ORG: [DocumentKind.REGISTRATION_CERTIFICATE, DocumentKind.CHARTER],
    OrgType.FOUNDATION: [DocumentKind.REGISTRATION_CERTIFICATE, DocumentKind.CHARTER],
    OrgType.COMMUNITY_FILED: [DocumentKind.FILING_CERTIFICATE],
    OrgType.PREPARING: [],
}
EDITOR_ROLES = (Membership.Role.LEADER, Membership.Role.CONTACT)


# ---- permission helpers -------------------------------------------------------------


def _member_role(user, org) -> str | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.filter(user=user, organisation=org).values_list("role", flat=True).first()


def require_member(user, org, roles=None) -> str:
    role = _member_role(user, org)
    if role is None or (roles and role not in roles):
        raise PermissionDenied("您不是该组织的成员，或您的角色无权进行此操作。")
    return role


def can_verify(user, org) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.has_perm("orgs.verify_organisation")
        and region_in_scope(user, org.region)
    )


def require_verifier(user, org) -> None:
    if not can_verify(user, org):
        raise PermissionDenied("您无权审核该组织：需要审核权限，且组织须在您负责的区域内。")


def _notify_members(org, title, body):
    members = [m.user for m in org.memberships.select_related("user")]
    notify(recipients=members, title=title, body=body, url=f"/me/orgs/{org.pk}/")


# ---- registry -------------------------------------------------------------------------


@transaction.atomic
def organisation_create(*, user, data: dict, service_areas=()) -> Organisation:
    """Create an organisation in draft; the creating user becomes its 负责人."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied("请先登录。")
    org = Organisation(**data, created_by=user)
    org.full_clean()
    org.save()
    org.service_areas.set(service_areas)
    Membership.objects.create(organisation=org, user=user, role=Membership.Role.LEADER)
    return org


@transaction.atomic
def organisation_update(*, org: Organisation, by, data: dict, service_areas=None) -> Organisation:
    """Edit the profile. Legal fields of a verified organisation change only through a
    re-verification request; nothing is editable while under review or after revocation."""
    require_member(by, org, EDITOR_ROLES)
    if not org.editable_by_applicant:
        raise ValidationError(f"组织当前状态为“{org.get_status_display()}”，不能修改资料。")
    if org.status == OrganisationStatus.VERIFIED:
        changed = [f for f in LEGAL_FIELDS if f in data and (data[f] or None) != (getattr(org, f) or None)]
        if changed:
            names = "、".join(str(Organisation._meta.get_field(f).verbose_name) for f in changed)
            raise ValidationError(f"已认证组织的{names}需通过“登记事项变更”申请，经审核后生效。")
    for key, value in data.items():
        setattr(org, key, value)
    org.full_clean()
    org.save()
    if service_areas is not None:
        org.service_areas.set(service_areas)
    return org


def missing_documents(org) -> list[str]:
    have = set(org.documents.filter(is_current=True).values_list("kind", flat=True))
    return [DocumentKind(k).label for k in REQUIRED_DOCUMENTS.get(org.org_type, []) if k not in have]


def organisation_submit(*, org: Organisation, by) -> Organisation:
    """Submit for verification. Fails if required documents are missing."""
    require_member(by, org, EDITOR_ROLES)
    missing = missing_documents(org)
    if missing:
        raise WorkflowError(f"请先上传以下材料再提交：{'、'.join(missing)}。")
    org.full_clean()
    with transaction.atomic():
        run_transition(org, "submit", by=by)
        Organisation.objects.filter(pk=org.pk).update(submitted_at=timezone.now(), status_reason="")
        staff = staff_users_for_region(org.region, Role.CALL_MANAGER)
        notify(
            recipients=staff,
            title=f"待审核：{org.name}",
            body=f"{org.name} 提交了登记信息，请审核。",
            url=f"/admin/orgs/review/{org.pk}/",
        )
    return org


def _staff_transition(org, name, *, by, reason="", reason_required=False, title, body):
    require_verifier(by, org)
    reason = (reason or "").strip()
    if reason_required and not reason:
        raise WorkflowError("请填写理由，申请单位将看到这段说明。")
    with transaction.atomic():
        run_transition(org, name, by=by, reason=reason)
        extra = {"verified_at": timezone.now()} if name == "verify" else {}
        Organisation.objects.filter(pk=org.pk).update(status_reason=reason, **extra)
        org.status_reason = reason
        _notify_members(org, title, body + (f"\n理由：{reason}" if reason else ""))
    return org


def organisation_verify(*, org, by, reason=""):
    return _staff_transition(
        org,
        "verify",
        by=by,
        reason=reason,
        title=f"{org.name} 已通过审核",
        body="您的组织登记信息已审核通过，现在可以申请入驻孵化基地、申报公益创投项目。",
    )


def organisation_return(*, org, by, reason):
    return _staff_transition(
        org,
        "return_for_correction",
        by=by,
        reason=reason,
        reason_required=True,
        title=f"{org.name} 被退回补正",
        body="您的组织登记信息需要补正后重新提交。",
    )


def organisation_suspend(*, org, by, reason):
    return _staff_transition(
        org,
        "suspend",
        by=by,
        reason=reason,
        reason_required=True,
        title=f"{org.name} 已被暂停",
        body="您的组织在本平台的资格已被暂停。",
    )


def organisation_reinstate(*, org, by, reason=""):
    return _staff_transition(
        org, "reinstate", by=by, reason=reason, title=f"{org.name} 已恢复", body="您的组织在本平台的资格已恢复。"
    )


def organisation_revoke(*, org, by, reason):
    return _staff_transition(
        org,
        "revoke",
        by=by,
        reason=reason,
        reason_required=True,
        title=f"{org.name} 已被撤销",
        body="您的组织在本平台的认证已被撤销。",
    )


# ---- documents -------------------------------------------------------------------------


def document_upload(*, org: Organisation, by, kind: str, upload) -> OrganisationDocument:
    """Store a new version of a document; the previous one stays as history. `upload` has
    been checked by core.files.SafeFileField (its real kind is `upload.kind`)."""
    require_member(by, org)
    if org.status in (OrganisationStatus.SUBMITTED, OrganisationStatus.REVOKED):
        raise ValidationError(f"组织当前状态为“{org.get_status_display()}”，不能更换材料。")
    if kind not in DocumentKind.values:
        raise ValidationError("请选择材料类型。")
    with transaction.atomic():
        Organisation.objects.select_for_update().filter(pk=org.pk).first()  # serialise versioning per org
        last = org.documents.filter(kind=kind).aggregate(m=Max("version"))["m"] or 0
        org.documents.filter(kind=kind, is_current=True).update(is_current=False)
        doc = OrganisationDocument(
            organisation=org,
            kind=kind,
            version=last + 1,
            is_current=True,
            file_kind=upload.kind,
            original_name=upload.name[:200],
            size=upload.size,
            uploaded_by=by,
            uploaded_at=timezone.now(),
        )
        doc.file.save(upload.name, upload, save=False)
        doc.save()
    return doc


def can_view_documents(user, org) -> bool:
    if _member_role(user, org):
        return True
    return bool(
        getattr(user, "is_authenticated", False)
        and user.has_perm("orgs.view_organisationdocument")
        and region_in_scope(user, org.region)
    )


# ---- members -------------------------------------------------------------------------------


def member_invite(*, org: Organisation, by, role: str, mobile: str = "", email: str = "") -> Invitation:
    """The 负责人 invites someone by mobile or e-mail; an existing user is told at once."""
    from accounts.models import User

    require_member(by, org, [Membership.Role.LEADER])
    if not (mobile or email):
        raise ValidationError("请填写被邀请人的手机号或电子邮箱。")
    existing = (
        User.objects.filter(mobile=mobile).first() if mobile else User.objects.filter(email__iexact=email).first()
    )
    if existing and Membership.objects.filter(organisation=org, user=existing).exists():
        raise ValidationError("该用户已经是本组织成员。")
    inv = Invitation(organisation=org, mobile=mobile, email=email, role=role, invited_by=by)
    inv.full_clean()
    inv.save()
    if existing:
        notify(
            recipients=[existing],
            title=f"{org.name} 邀请您加入",
            body=f"{by.get_full_name()} 邀请您担任“{inv.get_role_display()}”，请在工作台接受。",
            url="/me/",
        )
    return inv


def pending_invitations_for(user):
    from django.db.models import Q

    if not getattr(user, "is_authenticated", False):
        return Invitation.objects.none()
    cond = Q(pk__in=[])
    if user.mobile:
        cond |= Q(mobile=user.mobile)
    if user.email:
        cond |= Q(email__iexact=user.email)
    return Invitation.objects.filter(cond, accepted_at__isnull=True).select_related("organisation")


@transaction.atomic
def invitation_accept(*, invitation: Invitation, by) -> Membership:
    if not pending_invitations_for(by).filter(pk=invitation.pk).exists():
        raise PermissionDenied("该邀请不是发给您的，或已被接受。")
    try:
        with transaction.atomic():
            m = Membership.objects.create(organisation=invitation.organisation, user=by, role=invitation.role)
    except IntegrityError:
        m = Membership.objects.get(organisation=invitation.organisation, user=by)
    Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
    return m


# ---- legal changes -----------------------------------------------------------------------


def _with_legal_fields(org, *, name, org_type, uscc) -> Organisation:
    """A fresh copy of `org` carrying new legal facts, validated as the organisation itself
    would be (USCC rules, uniqueness, what the type requires). Raises ValidationError."""
    probe = Organisation.objects.get(pk=org.pk)
    probe.name, probe.org_type, probe.uscc = name, org_type, (uscc or None)
    probe.full_clean()
    return probe


def change_request_create(*, org, by, name, org_type, uscc, reason) -> LegalChangeRequest:
    """The 负责人 asks for new legal facts. Fails if they would not be valid for this
    organisation (e.g. the USCC is taken) or a request is already pending."""
    require_member(by, org, [Membership.Role.LEADER])
    if org.status != OrganisationStatus.VERIFIED:
        raise ValidationError("只有已认证的组织需要通过变更申请修改登记事项，其他状态可直接修改。")
    if org.change_requests.filter(state=LegalChangeRequest.State.PENDING).exists():
        raise ValidationError("已有一份变更申请在审核中，请等待审核结果。")
    probe = _with_legal_fields(org, name=name, org_type=org_type, uscc=uscc)
    req = LegalChangeRequest(
        organisation=org, name=name, org_type=org_type, uscc=probe.uscc or "", reason=reason, requested_by=by
    )
    req.full_clean()
    req.save()
    notify(
        recipients=staff_users_for_region(org.region, Role.CALL_MANAGER),
        title=f"登记事项变更：{org.name}",
        body=f"{org.name} 申请将登记事项变更为“{name}”。",
        url=f"/admin/orgs/review/{org.pk}/",
    )
    return req


def change_request_decide(*, req: LegalChangeRequest, by, approve: bool, note: str = "") -> LegalChangeRequest:
    """Approve (the new legal facts take effect) or reject (a note is required). Approval
    re-validates: the USCC may have been taken by another organisation meanwhile."""
    org = req.organisation
    require_verifier(by, org)
    if not approve and not note.strip():
        raise WorkflowError("不同意变更时请填写理由。")
    if approve:
        _with_legal_fields(org, name=req.name, org_type=req.org_type, uscc=req.uscc)
    with transaction.atomic():
        run_transition(req, "approve" if approve else "reject", by=by, reason=note)
        LegalChangeRequest.objects.filter(pk=req.pk).update(
            decided_by=by, decided_at=timezone.now(), decision_note=note
        )
        if approve:
            Organisation.objects.filter(pk=org.pk).update(name=req.name, org_type=req.org_type, uscc=req.uscc or None)
        _notify_members(
            org,
            f"登记事项变更{'已同意' if approve else '未同意'}",
            f"您申请的登记事项变更（{req.name}）{'已生效' if approve else '未获同意'}。"
            + (f"\n意见：{note}" if note else ""),
        )
    return req


# ---- eligibility facts ---------------------------------------------------------------------


def _require_fact_editor(by, org):
    if not (by.has_perm("orgs.add_annualinspection") and region_in_scope(by, org.region)):
        raise PermissionDenied("您无权登记该组织的年检、评估或名录信息。")


def facts_refresh(org: Organisation) -> None:
    """Keep the denormalised grade and inspection columns used by lists and filters."""
    grade = org.grades.order_by("-awarded_on").first()
    insp = org.inspections.order_by("-year").first()
    Organisation.objects.filter(pk=org.pk).update(
        latest_grade=grade.grade if grade else "",
        latest_inspection_year=insp.year if insp else None,
        latest_inspection_result=insp.result if insp else "",
    )


@transaction.atomic
def inspection_record(*, org, by, year: int, result: str, note: str = "") -> AnnualInspection:
    _require_fact_editor(by, org)
    insp, _ = AnnualInspection.objects.update_or_create(
        organisation=org, year=year, defaults={"result": result, "note": note}
    )
    facts_refresh(org)
    return insp


@transaction.atomic
def grade_record(*, org, by, grade: str, awarded_on) -> EvaluationGrade:
    _require_fact_editor(by, org)
    g = EvaluationGrade(organisation=org, grade=grade, awarded_on=awarded_on)
    g.full_clean()
    g.save()
    facts_refresh(org)
    return g


@transaction.atomic
def list_entry_add(*, org, by, kind: str, listed_on, removed_on=None, reason: str = "") -> ListEntry:
    _require_fact_editor(by, org)
    e = ListEntry(organisation=org, kind=kind, listed_on=listed_on, removed_on=removed_on, reason=reason, created_by=by)
    e.full_clean()
    e.save()
    return e


def registration_record(*, org: Organisation, by, org_type: str, uscc: str, note: str, allowed: bool) -> Organisation:
    """Record that a 筹备/备案 group has been registered (e.g. during incubation): its
    type and USCC change through an approved LegalChangeRequest, so the audit log holds.
    `allowed` is the caller's permission decision (an incubation operator in scope)."""
    if not allowed:
        raise PermissionDenied("您无权登记该组织的登记信息。")
    if org.is_registered and org.uscc == uscc:
        return org
    if org.change_requests.filter(state=LegalChangeRequest.State.PENDING).exists():
        raise ValidationError("该组织有一份登记事项变更申请尚未审核，请先由民政部门处理。")
    probe = _with_legal_fields(org, name=org.name, org_type=org_type, uscc=uscc)
    with transaction.atomic():
        req = LegalChangeRequest.objects.create(
            organisation=org, name=org.name, org_type=org_type, uscc=probe.uscc, reason=note, requested_by=by
        )
        run_transition(req, "approve", by=by, reason=note)
        LegalChangeRequest.objects.filter(pk=req.pk).update(decided_by=by, decided_at=timezone.now())
        Organisation.objects.filter(pk=org.pk).update(org_type=org_type, uscc=probe.uscc)
        _notify_members(org, f"{org.name} 登记信息已更新", f"已记录统一社会信用代码 {probe.uscc}。{note}")
    org.org_type, org.uscc = org_type, probe.uscc
    return org
