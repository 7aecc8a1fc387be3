"""Every action that changes an organisation. Each checks permission, validates, runs in
a transaction, writes the audit log (via core.workflow) and notifies after commit."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone

from accounts import verification
from accounts.roles import Role
from accounts.selectors import has_scoped_perm, staff_users_for_region
from accounts.validators import normalise_mobile, validate_mobile
from core.services import notify
from core.workflow import (
    Notice,
    WorkflowError,
    action_service,
    extra_action,
    log_created,
    log_event,
    run_transition,
    transition,
)

from .models import (
    LEGAL_FIELDS,
    VERIFY_PERMISSION,
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
    invitation_valid_days,
)
from .selectors import member_role

REQUIRED_DOCUMENTS = {
    OrgType.SOCIAL_GROUP: [DocumentKind.REGISTRATION_CERTIFICATE, DocumentKind.CHARTER],
    OrgType.SERVICE_ORG: [DocumentKind.REGISTRATION_CERTIFICATE, DocumentKind.CHARTER],
    OrgType.FOUNDATION: [DocumentKind.REGISTRATION_CERTIFICATE, DocumentKind.CHARTER],
    OrgType.COMMUNITY_FILED: [DocumentKind.FILING_CERTIFICATE],
    OrgType.PREPARING: [],
}
EDITOR_ROLES = (Membership.Role.LEADER, Membership.Role.CONTACT)


# ---- permission helpers -------------------------------------------------------------


MEMBER_DENIED = "您不是该组织的成员，或您的角色无权进行此操作。"
VERIFIER_DENIED = "您无权审核该组织：需要审核权限，且组织须在您负责的区域内。"


def require_member(user, org, roles=None) -> str:
    role = member_role(user, org)
    if role is None or (roles and role not in roles):
        raise PermissionDenied(MEMBER_DENIED)
    return role


def can_verify(user, org) -> bool:
    return has_scoped_perm(user, VERIFY_PERMISSION, org.region)


def require_verifier(user, org) -> None:
    if not can_verify(user, org):
        raise PermissionDenied(VERIFIER_DENIED)


def members_notice(org, title, body, target=None) -> Notice:
    """A notice to every member of `org`, linking to `target`'s page in the portal (the
    organisation's own by default; a stay, a proposal …)."""
    return Notice([m.user for m in org.memberships.select_related("user")], title, body, target or org)


def _staff_notice(org, title, body) -> Notice:
    """A notice to the call managers whose region covers `org`, linking to its review page."""
    return Notice(staff_users_for_region(org.region, Role.CALL_MANAGER), title, body, org.get_admin_url())


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
    log_created(org, by=user, label="创建组织资料")
    return org


def organisation_update(*, org: Organisation, by, data: dict, service_areas=None) -> Organisation:
    """Edit the profile. Legal fields of a verified organisation change only through a
    re-verification request; nothing is editable while under review or after revocation.
    If the status changed since `org` was loaded (a reviewer acted meanwhile), nothing is
    saved and the ValidationError says so; a new logo stored on the way is deleted again."""
    from django_fsm import ConcurrentTransition

    from core.files import atomic_with_files

    require_member(by, org, EDITOR_ROLES)
    try:
        with atomic_with_files() as files:
            _require_status_unchanged(org, "本次修改没有保存")
            if not org.editable_by_applicant:
                raise ValidationError(f"组织当前状态为“{org.get_status_display()}”，不能修改资料。")
            if org.status == OrganisationStatus.VERIFIED:
                changed = [f for f in LEGAL_FIELDS if f in data and (data[f] or None) != (getattr(org, f) or None)]
                if changed:
                    names = "、".join(str(Organisation._meta.get_field(f).verbose_name) for f in changed)
                    raise ValidationError(f"已认证组织的{names}需通过“登记事项变更”申请，经审核后生效。")
            files.watch(org, "logo")
            for key, value in data.items():
                setattr(org, key, value)
            org.full_clean()
            org.save()
            if service_areas is not None:
                org.service_areas.set(service_areas)
    except ConcurrentTransition:  # the status changed between the check and the save
        raise ValidationError(_STALE_MESSAGE.format(action="本次修改没有保存"))
    return org


_STALE_MESSAGE = "在您操作期间，组织的登记状态已有变化，{action}。请刷新页面，查看最新状态后再操作。"


def _require_status_unchanged(org: Organisation, action: str) -> None:
    """Lock the organisation's row and refuse if its status is no longer the one `org`
    was loaded with: a screen opened before a reviewer acted is a stale copy."""
    current = Organisation.objects.select_for_update().filter(pk=org.pk).values_list("status", flat=True).first()
    if current != org.status:
        raise ValidationError(_STALE_MESSAGE.format(action=action))


def missing_documents(org) -> list[str]:
    have = set(org.documents.filter(is_current=True).values_list("kind", flat=True))
    return [DocumentKind(k).label for k in REQUIRED_DOCUMENTS.get(org.org_type, []) if k not in have]


def organisation_submit(*, org: Organisation, by) -> Organisation:
    """Submit for verification. Raises PermissionDenied for anyone but the 负责人 or
    联系人, WorkflowError if required documents are missing or the status does not allow it."""
    require_member(by, org, EDITOR_ROLES)
    missing = missing_documents(org)
    if missing:
        raise WorkflowError(f"请先上传以下材料再提交：{'、'.join(missing)}。")
    org.full_clean()
    transition(
        org,
        "submit",
        by=by,
        allowed=True,
        record={"submitted_at": timezone.now(), "status_reason": ""},
        notify=[_staff_notice(org, f"待审核：{org.name}", f"{org.name} 提交了登记信息，请审核。")],
    )
    return org


def _decide(org, name, *, by, reason, title, body, **record):
    """A staff decision on the registration: the reason is kept on the organisation and
    told to its members."""
    reason = (reason or "").strip()
    transition(
        org,
        name,
        by=by,
        denied=VERIFIER_DENIED,
        reason=reason,
        record={"status_reason": reason, **record},
        notify=[members_notice(org, title, body + (f"\n理由：{reason}" if reason else ""))],
    )
    return org


@action_service(Organisation, "verify")
def organisation_verify(*, org, by, reason=""):
    return _decide(
        org,
        "verify",
        by=by,
        reason=reason,
        verified_at=timezone.now(),
        title=f"{org.name} 已通过审核",
        body="您的组织登记信息已审核通过，现在可以申请入驻孵化基地、申报公益创投项目。",
    )


@action_service(Organisation, "return_for_correction")
def organisation_return(*, org, by, reason):
    return _decide(
        org,
        "return_for_correction",
        by=by,
        reason=reason,
        title=f"{org.name} 被退回补正",
        body="您的组织登记信息需要补正后重新提交。",
    )


@action_service(Organisation, "suspend")
def organisation_suspend(*, org, by, reason):
    return _decide(
        org, "suspend", by=by, reason=reason, title=f"{org.name} 已被暂停", body="您的组织在本平台的资格已被暂停。"
    )


@action_service(Organisation, "reinstate")
def organisation_reinstate(*, org, by, reason=""):
    return _decide(
        org, "reinstate", by=by, reason=reason, title=f"{org.name} 已恢复", body="您的组织在本平台的资格已恢复。"
    )


@action_service(Organisation, "revoke")
def organisation_revoke(*, org, by, reason):
    return _decide(
        org, "revoke", by=by, reason=reason, title=f"{org.name} 已被撤销", body="您的组织在本平台的认证已被撤销。"
    )


# ---- documents -------------------------------------------------------------------------


def document_upload(*, org: Organisation, by, kind: str, upload) -> OrganisationDocument:
    """Store a new version of a document; the previous one stays as history. `upload` has
    been checked by core.files.SafeFileField (its real kind is `upload.kind`).

    PermissionDenied if the member's role may not change this kind (orgs.documents: legal
    documents are the 负责人's and 项目联系人's); ValidationError if the organisation is under
    review or revoked, or its status changed since `org` was loaded, or another upload of
    the same kind won the race. Nothing is kept then, not even the stored file."""
    from core.files import atomic_with_files

    from .documents import UPLOAD_RULE, may_upload

    role = require_member(by, org)
    if kind not in DocumentKind.values:
        raise ValidationError("请选择材料类型。")
    if not may_upload(role, kind):
        raise PermissionDenied(
            f"您在本组织的角色是“{Membership.Role(role).label}”，不能上传“{DocumentKind(kind).label}”。{UPLOAD_RULE}"
        )
    try:
        with atomic_with_files() as files:
            _require_status_unchanged(org, "本次上传没有保存")  # also serialises versioning per org
            if org.status in (OrganisationStatus.SUBMITTED, OrganisationStatus.REVOKED):
                raise ValidationError(f"组织当前状态为“{org.get_status_display()}”，不能更换材料。")
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
            files.watch(doc, "file")
            doc.file.save(upload.name, upload, save=False)
            doc.save()
    except IntegrityError:  # two uploads of one kind at once (SQLite has no row lock)
        raise ValidationError("同一时间有其他成员上传了同类材料，本次上传没有保存。请刷新页面后重新上传。")
    return doc


def can_view_documents(user, org) -> bool:
    return bool(member_role(user, org)) or has_scoped_perm(user, "orgs.view_organisationdocument", org.region)


# ---- members -------------------------------------------------------------------------------
# An invitation names a mobile or an e-mail. Holding an account with that number proves
# nothing (it was never verified): the invitee joins only by typing back the one-time code
# sent to it (accounts.verification), a code bound to that one invitation.

INVITATION_CODE_TEXT = (
    "【公益创投管理平台】{org}邀请您担任“{role}”。请用本{channel}注册或登录平台，在“我的工作台”"
    "输入验证码 {{code}} 加入（{{minutes}}分钟内有效，过期可在工作台重新获取）。如非本人操作，请忽略。"
)
LEADER_DENIED = "您无权为该组织指定负责人：需要审核权限，且组织须在您负责的区域内。"


def _account_for(mobile: str, email: str):
    from accounts.models import User

    if mobile:
        return User.objects.filter(mobile=mobile).first()
    return User.objects.filter(email__iexact=email).first()


def _send_invitation_code(inv: Invitation):
    """Send the code for `inv` to its mobile or e-mail. Raises VerificationError (too often)."""
    text = INVITATION_CODE_TEXT.format(
        org=inv.organisation.name.replace("{", "{{").replace("}", "}}"),
        role=inv.get_role_display(),
        channel="手机号" if inv.mobile else "电子邮箱",
    )
    return verification.code_send(
        scope=inv.verification_scope,
        destination=inv.destination,
        message=text,
        subject=f"{inv.organisation.name} 邀请您加入（验证码）",
    )


def _invite(*, org, by, role, mobile="", email="", by_staff=False, log_reason="") -> Invitation:
    if not (mobile or email):
        raise ValidationError("请填写被邀请人的手机号或电子邮箱。")
    existing = _account_for(mobile, email)
    if existing and Membership.objects.filter(organisation=org, user=existing).exists():
        raise ValidationError("该用户已经是本组织成员。")
    inv = Invitation(organisation=org, mobile=mobile, email=email, role=role, invited_by=by, by_staff=by_staff)
    inv.full_clean()
    same = org.invitations.filter(status=Invitation.Status.PENDING, mobile=mobile, email__iexact=email)
    if same.live().exists():
        raise ValidationError("已向该手机号（邮箱）发出邀请，正等待对方验证加入；对方可在工作台重新获取验证码。")
    with transaction.atomic():
        for old in same:  # expired: withdrawn, so only the new one can be accepted
            run_transition(old, "withdraw", by=by, reason="邀请已过期，重新发出邀请")
        inv.save()
        log_created(inv, by=by, reason=log_reason, label="发出邀请")
        if existing:
            notify(
                recipients=[existing],
                title=f"{org.name} 邀请您加入",
                body=f"{by.get_full_name()} 邀请您担任“{inv.get_role_display()}”。"
                f"请在工作台输入发送到{verification.mask(inv.destination)}的验证码后加入。",
                url=reverse("dashboard"),
            )
    try:
        _send_invitation_code(inv)
        inv.code_sent = True
    except verification.VerificationError:
        inv.code_sent = False  # rate-limited: the invitee asks for a code from the dashboard
    return inv


def member_invite(*, org: Organisation, by, role: str, mobile: str = "", email: str = "") -> Invitation:
    """The 负责人 invites someone by mobile or e-mail. A one-time code goes to that number or
    address (and an existing account with it is told in the site); whoever types the code
    back joins, see invitation_accept. Raises PermissionDenied (not the 负责人) and
    ValidationError (nothing to send to, already a member, already invited)."""
    require_member(by, org, [Membership.Role.LEADER])
    return _invite(org=org, by=by, role=role, mobile=mobile, email=email)


def pending_invitations_for(user):
    """Invitations waiting for `user` to prove the number/address they were sent to."""
    from django.db.models import Q

    if not getattr(user, "is_authenticated", False):
        return Invitation.objects.none()
    cond = Q(pk__in=[])
    if user.mobile:
        cond |= Q(mobile=user.mobile)
    if user.email:
        cond |= Q(mobile="", email__iexact=user.email)
    return Invitation.objects.filter(cond).live().select_related("organisation")


def addressed_invitation(invitation: Invitation, by) -> Invitation:
    """The invitation as it stands now, if `by` may still accept it: waiting, addressed to
    them, not expired. Raises PermissionDenied with the reason."""
    inv = Invitation.objects.select_related("organisation").get(pk=invitation.pk)  # the current state, not a copy
    if inv.status != Invitation.Status.PENDING or not inv.is_addressed_to(by):
        raise PermissionDenied("该邀请不是发给您的，或已被接受。")
    if inv.is_expired:
        raise PermissionDenied(
            f"该邀请已过期（发出后{invitation_valid_days()}天内有效），请联系{inv.organisation.name}的负责人重新邀请。"
        )
    return inv


def invitation_send_code(*, invitation: Invitation, by):
    """Send (again) the code for an invitation addressed to `by`. Raises PermissionDenied
    and VerificationError (asked again too soon or too often)."""
    return _send_invitation_code(addressed_invitation(invitation, by))


def invitation_accept(*, invitation: Invitation, by, code: str) -> Membership:
    """Join the organisation of an invitation addressed to `by` with the code sent to the
    invited number/address. Raises PermissionDenied (not addressed to `by`, already
    accepted) and VerificationError (wrong, expired or used code, too many tries); a
    wrong try is counted even though the call fails."""
    inv = addressed_invitation(invitation, by)
    verification.code_check(scope=inv.verification_scope, destination=inv.destination, code=code)
    with transaction.atomic():
        try:
            with transaction.atomic():
                m = Membership.objects.create(organisation=inv.organisation, user=by, role=inv.role)
        except IntegrityError:
            m = Membership.objects.get(organisation=inv.organisation, user=by)
        run_transition(
            inv,
            "accept",
            by=by,
            reason=f"已验证{verification.mask(inv.destination)}",
            record={"accepted_at": timezone.now()},
        )
        if inv.by_staff:
            notify(
                recipients=[inv.invited_by],
                title=f"{inv.organisation.name} 的负责人已确认",
                body=f"{by.get_full_name()} 已验证手机号{verification.mask(inv.destination)}，成为该组织负责人。",
                url=inv.organisation.get_admin_url(),
            )
    return m


def member_attach_leader(*, org: Organisation, by, mobile: str) -> Invitation:
    """Staff who verify organisations in `org`'s region attach a 负责人 to an organisation
    without members (e.g. one imported from a register): an invitation for 负责人 to
    `mobile`, proven like any other. The invitation records who attached whom and when, and
    its history starts with that row; a newer attachment withdraws an older one still
    waiting. Raises PermissionDenied and ValidationError (has members, bad number)."""
    if not has_scoped_perm(by, VERIFY_PERMISSION, org.region):
        raise PermissionDenied(LEADER_DENIED)
    if org.memberships.exists():
        raise ValidationError("该组织已有成员，应由其负责人在组织页面邀请新成员，工作人员不能再指定负责人。")
    mobile = normalise_mobile(mobile)
    validate_mobile(mobile)
    with transaction.atomic():
        earlier = list(org.invitations.filter(status=Invitation.Status.PENDING, by_staff=True).exclude(mobile=mobile))
        for old in earlier:
            run_transition(old, "withdraw", by=by, reason=f"工作人员改为指定{verification.mask(mobile)}")
        return _invite(
            org=org,
            by=by,
            role=Membership.Role.LEADER,
            mobile=mobile,
            by_staff=True,
            log_reason=f"工作人员指定负责人：{verification.mask(mobile)}",
        )


def leader_invitations(org: Organisation):
    """The staff attachments of `org`, newest first, with who made them: for the review page."""
    return org.invitations.filter(by_staff=True).select_related("invited_by").order_by("-created_at", "-pk")


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
    log_created(req, by=by, label="提出变更申请")
    from core.workflow import send_notices

    send_notices([_staff_notice(org, f"登记事项变更：{org.name}", f"{org.name} 申请将登记事项变更为“{name}”。")])
    return req


def change_request_decide(*, req: LegalChangeRequest, by, approve: bool, note: str = "") -> LegalChangeRequest:
    """Approve (the new legal facts take effect) or reject (a note is required). Approval
    re-validates: the USCC may have been taken by another organisation meanwhile.
    Raises PermissionDenied, WorkflowError (no note on a rejection, already decided) or
    ValidationError (the new facts are no longer valid)."""
    org = req.organisation
    if not can_verify(by, org):
        raise PermissionDenied(VERIFIER_DENIED)
    if approve:
        _with_legal_fields(org, name=req.name, org_type=req.org_type, uscc=req.uscc)
    verdict = "已同意" if approve else "未同意"
    body = f"您申请的登记事项变更（{req.name}）{'已生效' if approve else '未获同意'}。" + (
        f"\n意见：{note}" if note else ""
    )
    with transaction.atomic():
        transition(
            req,
            "approve" if approve else "reject",
            by=by,
            reason=note,
            record={"decided_by": by, "decided_at": timezone.now(), "decision_note": note},
            notify=[members_notice(org, f"登记事项变更{verdict}", body)],
        )
        if approve:
            Organisation.objects.filter(pk=org.pk).update(name=req.name, org_type=req.org_type, uscc=req.uscc or None)
    return req


def _pending_change(org) -> LegalChangeRequest:
    req = org.change_requests.filter(state=LegalChangeRequest.State.PENDING).first()
    if req is None:
        raise WorkflowError("该组织没有待审核的登记事项变更申请。")
    return req


def _has_pending_change(org) -> bool:
    """From the review page's annotation when there is one, else asked of the database."""
    if hasattr(org, "has_pending_change"):
        return org.has_pending_change
    return org.change_requests.filter(state=LegalChangeRequest.State.PENDING).exists()


_CHANGE = {
    "group": "change",
    "form": "orgs.forms_admin.ChangeDecisionForm",
    "heading": "审核变更申请",
    "when": lambda org: _has_pending_change(org),
    "permitted": lambda org, user: can_verify(user, org),
}


@extra_action(
    Organisation, "change-approve", "同意变更", success="已同意“{obj}”的登记事项变更，新的登记事项已生效。", **_CHANGE
)
def change_request_approve(*, org, by, note=""):
    return change_request_decide(req=_pending_change(org), by=by, approve=True, note=note)


@extra_action(
    Organisation,
    "change-reject",
    "不同意变更",
    danger=True,
    success="已不同意“{obj}”的登记事项变更，已通知申请单位。",
    **_CHANGE,
)
def change_request_reject(*, org, by, note=""):
    return change_request_decide(req=_pending_change(org), by=by, approve=False, note=note)


# ---- eligibility facts ---------------------------------------------------------------------


FACTS_PERMISSION = "orgs.add_annualinspection"


def can_record_facts(user, org) -> bool:
    return has_scoped_perm(user, FACTS_PERMISSION, org.region)


def _require_fact_editor(by, org):
    if not can_record_facts(by, org):
        raise PermissionDenied("您无权登记该组织的年检、评估或名录信息。")


def _fact(slug, label, form, success):
    return extra_action(
        Organisation,
        slug,
        label,
        form=f"orgs.forms_admin.{form}",
        group=slug.replace("-", "_"),
        permitted=lambda org, user: can_record_facts(user, org),
        success=success,
    )


def facts_refresh(org: Organisation) -> None:
    """Keep the denormalised grade and inspection columns used by lists and filters."""
    grade = org.grades.order_by("-awarded_on").first()
    insp = org.inspections.order_by("-year").first()
    Organisation.objects.filter(pk=org.pk).update(
        latest_grade=grade.grade if grade else "",
        latest_inspection_year=insp.year if insp else None,
        latest_inspection_result=insp.result if insp else "",
    )


@_fact("inspection", "登记年检", "InspectionForm", "已登记“{obj}”的年检结果。")
@transaction.atomic
def inspection_record(*, org, by, year: int, result: str, note: str = "") -> AnnualInspection:
    _require_fact_editor(by, org)
    insp, _ = AnnualInspection.objects.update_or_create(
        organisation=org, year=year, defaults={"result": result, "note": note}
    )
    facts_refresh(org)
    return insp


@_fact("grade", "登记评估等级", "GradeForm", "已登记“{obj}”的评估等级。")
@transaction.atomic
def grade_record(*, org, by, grade: str, awarded_on) -> EvaluationGrade:
    _require_fact_editor(by, org)
    g = EvaluationGrade(organisation=org, grade=grade, awarded_on=awarded_on)
    g.full_clean()
    g.save()
    facts_refresh(org)
    return g


@_fact("list-entry", "登记名录记录", "ListEntryForm", "已登记“{obj}”的名录记录。")
@transaction.atomic
def list_entry_add(*, org, by, kind: str, listed_on, removed_on=None, reason: str = "") -> ListEntry:
    _require_fact_editor(by, org)
    e = ListEntry(organisation=org, kind=kind, listed_on=listed_on, removed_on=removed_on, reason=reason, created_by=by)
    e.full_clean()
    e.save()
    return e


BAN_YEARS = 3


def _years_after(day, years: int):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def ban_record(*, org, by, reason: str, listed_on=None, years: int = BAN_YEARS) -> ListEntry:
    """本平台禁止申报: a ban of `years` (3 by default) from `listed_on` (today), which
    orgs.selectors.eligibility refuses, with its reason and end date, for every later call.

    For a service of a higher layer that decided the ban under its own permission (grants:
    a project terminated for a serious breach, by the evaluator of the call's region): it
    is not an action staff take on the organisation's page, so it asks no fact-editor
    permission here. Written to the organisation's history."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "请写明禁止申报的原因。"})
    listed_on = listed_on or timezone.localdate()
    entry = ListEntry(
        organisation=org,
        kind=ListEntry.Kind.BAN,
        listed_on=listed_on,
        removed_on=_years_after(listed_on, years),
        reason=reason[:300],
        created_by=by if getattr(by, "pk", None) else None,
    )
    entry.full_clean()
    entry.save()
    log_event(org, "ban", by=by, reason=f"禁止申报至{entry.removed_on:%Y-%m-%d}：{entry.reason}")
    return entry


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
        transition(
            req,
            "approve",
            by=by,
            allowed=True,
            reason=note,
            record={"decided_by": by, "decided_at": timezone.now()},
            notify=[members_notice(org, f"{org.name} 登记信息已更新", f"已记录统一社会信用代码 {probe.uscc}。{note}")],
        )
        Organisation.objects.filter(pk=org.pk).update(org_type=org_type, uscc=probe.uscc)
    org.org_type, org.uscc = org_type, probe.uscc
    return org
