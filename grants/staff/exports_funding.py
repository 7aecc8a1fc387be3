"""/admin/grants/exports/: 导出 in the 公益创投 menu, the Excel exports of the funded projects
(grants.exports_funding): 立项项目, 拨付, 评估, 进度报告, for all the calls of the user's region or
one of them.

GET shows the choice (kind, call) and the user's recent exports; POST starts the background job
and goes to its page (/admin/jobs/<pk>/: progress bar, download). A call outside the user's
scope is not offered, and posted anyway it is refused with a Chinese message, nothing queued.
Users holding `grants.view_proposal` (call managers, base operators, finance, auditors) see
the menu item and may export; anyone else gets 403."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from wagtail import hooks

from core.admin_ui import PermissionMenuItem, admin_breadcrumbs
from core.errors import UserError
from core.models import BackgroundJob

from ..exports_funding import DENIED, JOB_KINDS, KIND_CHOICES, KINDS, calls_for, can_export, funding_export_start
from . import GRANTS_MENU_HOOK

SECTION = ("公益创投", None)


class FundingExportForm(forms.Form):
    kind = forms.ChoiceField(
        label="导出内容",
        choices=KIND_CHOICES,
        widget=forms.RadioSelect,
        initial="awards",
        error_messages={"required": "请选择要导出的数据。", "invalid_choice": "请选择要导出的数据。"},
    )
    call = forms.ChoiceField(label="征集", required=False, help_text="不选则导出您负责区域内全部征集的数据。")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        rows = calls_for(user).values_list("pk", "year", "title")
        self.fields["call"].choices = [
            ("", "全部征集"),
            *((str(pk), f"{year}年 · {title}") for pk, year, title in rows),
        ]
        self.fields["call"].error_messages["invalid_choice"] = "所选征集不存在或不在您负责的区域内，请重新选择。"


DESCRIPTIONS = {
    "awards": "每个已批复立项的项目一行：申报组织、统一社会信用代码、征集、层级、区域、服务领域、资助金额、批复日期、状态。",
    "tranches": "每期拨付一行：期次、比例、金额、拨付条件、状态、计划拨付日期、拨付日期、凭证号。",
    "evaluations": "每次中期、末期评估一行：第几次、总分、是否通过、等级、评估人、评估日期。",
    "reports": "每份进度报告一行：报告期、开展活动、参与人次、服务对象、支出合计。",
}


def funding_export_view(request):
    user = request.user
    if not can_export(user):
        raise PermissionDenied(DENIED)
    if request.method == "POST":
        form = FundingExportForm(request.POST, user=user)
        if form.is_valid():
            try:
                job = funding_export_start(user=user, kind=form.cleaned_data["kind"], call_id=form.cleaned_data["call"])
            except UserError as e:
                messages.error(request, e.message)
            else:
                return redirect(job.get_absolute_url())
    else:
        form = FundingExportForm(initial={"kind": request.GET.get("kind") or "awards"}, user=user)
    recent = BackgroundJob.objects.filter(created_by=user, kind__in=JOB_KINDS).order_by("-created_at", "-pk")[:5]
    context = {
        "header_title": "导出公益创投项目数据",
        "header_icon": "download",
        "page_title": "导出公益创投项目数据",
        "breadcrumbs_items": admin_breadcrumbs(SECTION, ("导出", None)),
        "form": form,
        "kinds": [(k.key, k.label, DESCRIPTIONS[k.key]) for k in KINDS.values()],
        "recent": recent,
    }
    return TemplateResponse(request, "grants/staff/funding_export.html", context)


urlpatterns = [path("exports/", funding_export_view, name="funding_exports")]


@hooks.register(GRANTS_MENU_HOOK)
def funding_exports_menu_item():
    return PermissionMenuItem(
        "导出",
        reverse("grants_admin:funding_exports"),
        name="grants-exports",
        icon_name="download",
        order=600,
        check=can_export,
    )
