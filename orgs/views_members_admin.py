"""Staff attach a 负责人 to an organisation that has no members (imported from a register,
say): /admin/orgs/review/<pk>/attach-leader/. The person named proves the mobile with the
code sent to it (orgs.services.member_attach_leader), like any invitee.

An organisation outside the user's scope is a 404, as on every registry screen; inside it,
a user without the verify permission gets a 403 page saying who may do this."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from wagtail.admin.auth import permission_required

from accounts import verification
from accounts.validators import normalise_mobile, validate_mobile
from core.admin_ui import admin_breadcrumbs
from core.ui import apply_errors, error_text

from . import services
from .selectors import organisation_for_review

VIEW_PERMISSION = "orgs.view_organisation"


class AttachLeaderForm(forms.Form):
    mobile = forms.CharField(
        label="负责人手机号",
        max_length=20,
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
        help_text="验证码将以短信发到这个手机号；对方用该手机号注册或登录平台并输入验证码后，成为本组织负责人。",
    )

    def clean_mobile(self):
        mobile = normalise_mobile(self.cleaned_data["mobile"])
        validate_mobile(mobile)
        return mobile


def _page(request, org, *, form=None, refused="", status=200):
    return TemplateResponse(
        request,
        "orgs/admin/attach_leader.html",
        {
            "header_title": f"指定负责人：{org.name}",
            "breadcrumbs_items": admin_breadcrumbs(
                ("社会组织", reverse("orgs_admin:registry")),
                (org.name, reverse("orgs_admin:review", args=[org.pk])),
                ("指定负责人", None),
            ),
            "header_icon": "user",
            "org": org,
            "has_members": bool(org.memberships.all()),
            "form": form or AttachLeaderForm(),
            "refused": refused,
            "invitations": services.leader_invitations(org),
        },
        status=status,
    )


@permission_required(VIEW_PERMISSION)
def attach_leader(request, pk):
    org = organisation_for_review(request.user, pk)  # 404 outside the user's scope
    if not services.can_verify(request.user, org):
        # Wagtail would turn PermissionDenied into a redirect; say 403 and why
        return _page(request, org, refused=services.LEADER_DENIED, status=403)
    if request.method != "POST":
        return _page(request, org)
    form = AttachLeaderForm(request.POST)
    if form.is_valid():
        try:
            inv = services.member_attach_leader(org=org, by=request.user, mobile=form.cleaned_data["mobile"])
        except PermissionDenied as exc:
            return _page(request, org, refused=error_text(exc), status=403)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            masked = verification.mask(inv.mobile)
            if inv.code_sent:
                messages.success(request, f"已向 {masked} 发送验证码。对方验证手机号后即成为“{org.name}”的负责人。")
            else:
                messages.warning(
                    request, f"已指定 {masked}，但发往该号码的验证码过多，本次未发送；对方可登录后在工作台获取验证码。"
                )
            return redirect("orgs_admin:attach_leader", org.pk)
    return _page(request, organisation_for_review(request.user, pk), form=form, status=400)


urlpatterns = [
    path("review/<int:pk>/attach-leader/", attach_leader, name="attach_leader"),
]
