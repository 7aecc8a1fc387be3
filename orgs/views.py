"""The applicant's side of the registry (/me/orgs/): thin views over services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import verification
from core.files import serve_private
from core.ui import apply_errors, error_text
from core.workflow import WorkflowError

from . import services
from .forms import ChangeRequestForm, DocumentUploadForm, InvitationForm, OrganisationForm
from .models import Invitation, Membership, Organisation, OrganisationDocument, OrganisationStatus
from .selectors import documents_with_history, eligibility, organisation_detail_qs


def _member_org(request, pk, roles=None) -> tuple[Organisation, str]:
    org = get_object_or_404(organisation_detail_qs(), pk=pk)
    return org, services.require_member(request.user, org, roles)


def _from_account(user) -> dict:
    """What a new organisation's contact fields start with: the account's own name, mobile
    and e-mail (only those the account has)."""
    values = {"contact_name": user.name, "contact_phone": user.mobile, "email": user.email}
    return {k: v for k, v in values.items() if v}


@login_required
def organisation_create(request):
    form = OrganisationForm(request.POST or None, request.FILES or None, initial=_from_account(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            org = services.organisation_create(
                user=request.user, data=form.profile_data(), service_areas=form.cleaned_data["service_areas"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            request.session["active_org"] = org.pk
            messages.success(request, "组织信息已保存为草稿。请上传登记材料，然后提交审核。")
            return redirect("orgs:detail", org.pk)
    return render(request, "orgs/form.html", {"form": form, "title": "登记社会组织"})


@login_required
def organisation_edit(request, pk):
    org, _ = _member_org(request, pk, services.EDITOR_ROLES)
    if not org.editable_by_applicant:
        messages.error(request, f"组织当前状态为“{org.get_status_display()}”，不能修改资料。")
        return redirect("orgs:detail", org.pk)
    lock = org.status == OrganisationStatus.VERIFIED
    form = OrganisationForm(request.POST or None, request.FILES or None, instance=org, lock_legal=lock)
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_update(
                org=Organisation.objects.get(pk=org.pk),
                by=request.user,
                data=form.profile_data(),
                service_areas=form.cleaned_data["service_areas"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "资料已保存。")
            return redirect("orgs:detail", org.pk)
    return render(request, "orgs/form.html", {"form": form, "title": f"修改资料：{org.name}", "org": org})


@login_required
def organisation_detail(request, pk, upload_form=None, invite_form=None, change_form=None, status=200):
    org, role = _member_org(request, pk)
    request.session["active_org"] = org.pk
    context = {
        "org": org,
        "role": role,
        "is_leader": role == Membership.Role.LEADER,
        "documents": documents_with_history(org),
        "members": org.memberships.select_related("user"),
        "invitations": org.invitations.live(),
        "missing_documents": services.missing_documents(org),
        "eligibility": eligibility(org) if org.status == OrganisationStatus.VERIFIED else None,
        "upload_form": upload_form or DocumentUploadForm(role=role),
        "invite_form": invite_form or InvitationForm(),
        "change_form": change_form
        or ChangeRequestForm(initial={"name": org.name, "org_type": org.org_type, "uscc": org.uscc}),
        "pending_change": org.change_requests.filter(state="pending").first(),
    }
    return render(request, "orgs/detail.html", context, status=status)


@require_POST
@login_required
def organisation_submit(request, pk):
    org, _ = _member_org(request, pk, services.EDITOR_ROLES)
    try:
        services.organisation_submit(org=org, by=request.user)
    except (WorkflowError, ValidationError) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, "已提交审核。审核结果会通过站内通知和邮件告诉您。")
    return redirect("orgs:detail", org.pk)


@require_POST
@login_required
def document_upload(request, pk):
    org, role = _member_org(request, pk)
    form = DocumentUploadForm(request.POST, request.FILES, role=role)
    if form.is_valid():
        try:
            doc = services.document_upload(
                org=org, by=request.user, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"]
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"已上传“{doc.get_kind_display()}”第 {doc.version} 版。")
            return redirect("orgs:detail", org.pk)
    return organisation_detail(request, pk, upload_form=form, status=400)


@login_required
def document_download(request, pk, doc_pk):
    doc = get_object_or_404(
        OrganisationDocument.objects.select_related("organisation__region"), pk=doc_pk, organisation_id=pk
    )
    if not services.can_view_documents(request.user, doc.organisation):
        raise PermissionDenied("您无权查看该组织的材料。")
    return serve_private(doc.file, download_name=doc.download_name)


@require_POST
@login_required
def member_invite(request, pk):
    org, _ = _member_org(request, pk, [Membership.Role.LEADER])
    form = InvitationForm(request.POST)
    if form.is_valid():
        try:
            inv = services.member_invite(
                org=org,
                by=request.user,
                role=form.cleaned_data["role"],
                mobile=form.cleaned_data["mobile"],
                email=form.cleaned_data["email"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request, "邀请已发出。对方登录后在工作台接受即可加入。接受时须输入发送到该手机号（邮箱）的验证码。"
            )
            if not inv.code_sent:
                messages.warning(request, "发往该号码的验证码过多，本次未发送；对方可稍后在工作台自行获取验证码。")
            return redirect("orgs:detail", org.pk)
    return organisation_detail(request, pk, invite_form=form, status=400)


def _invitation_page(request, inv, form=None, status=200):
    """The code entry page of an invitation addressed to the user: nothing of the
    organisation but its name is shown until the code is typed back."""
    scope, destination = inv.verification_scope, inv.destination
    channel = "手机号" if inv.mobile else "电子邮箱"
    context = {
        "title": f"加入 {inv.organisation.name}",
        "intro": f"{inv.invited_by.get_full_name()} 邀请您担任“{inv.get_role_display()}”。"
        f"为确认该{channel}确属本人，请输入发送到该{channel}的验证码。验证通过后才能查看组织资料。",
        "destination": verification.mask(destination),
        "form": form or verification.CodeForm(),
        "action_url": reverse("orgs:invitation_accept", args=[inv.pk]),
        "resend_url": reverse("orgs:invitation_code", args=[inv.pk]),
        "resend_wait": verification.resend_wait_seconds(scope=scope, destination=destination),
        "code_sent": verification.has_live_code(scope=scope, destination=destination),
        "submit_label": "验证并加入",
    }
    return render(request, "accounts/verify_code.html", context, status=status)


def _addressed_invitation(request, pk) -> Invitation:
    inv = get_object_or_404(Invitation.objects.select_related("organisation", "invited_by"), pk=pk)
    services.addressed_invitation(inv, request.user)  # waiting, theirs, not expired: or 403 with the reason
    return inv


@login_required
def invitation_detail(request, pk):
    return _invitation_page(request, _addressed_invitation(request, pk))


@require_POST
@login_required
def invitation_code(request, pk):
    inv = _addressed_invitation(request, pk)
    try:
        services.invitation_send_code(invitation=inv, by=request.user)
    except verification.VerificationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"验证码已发送至 {verification.mask(inv.destination)}，10分钟内有效。")
    return redirect("orgs:invitation", inv.pk)


@require_POST
@login_required
def invitation_accept(request, pk):
    inv = _addressed_invitation(request, pk)
    form = verification.CodeForm(request.POST)
    if form.is_valid():
        try:
            m = services.invitation_accept(invitation=inv, by=request.user, code=form.cleaned_data["code"])
        except verification.VerificationError as exc:
            form.add_error("code", error_text(exc))
        else:
            request.session["active_org"] = m.organisation_id
            messages.success(request, f"您已加入 {m.organisation.name}。")
            return redirect("orgs:detail", m.organisation_id)
    return _invitation_page(request, inv, form=form, status=400)


@require_POST
@login_required
def change_request(request, pk):
    org, _ = _member_org(request, pk, [Membership.Role.LEADER])
    form = ChangeRequestForm(request.POST)
    if form.is_valid():
        try:
            services.change_request_create(org=org, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "变更申请已提交，审核通过后生效。")
            return redirect("orgs:detail", org.pk)
    return organisation_detail(request, pk, change_form=form, status=400)
