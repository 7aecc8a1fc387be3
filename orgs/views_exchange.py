"""Staff screens for bulk data, inside the Wagtail admin (URLs in exchange_hooks.py):

    /admin/orgs/import/            upload an .xlsx; runs as a background job
    /admin/orgs/import/template/   the template with Chinese headers and an example row
    /admin/orgs/export/            GET: choose filters (prefilled from ?<filters>);
                                   POST: export the filtered registry as a background job

Both jobs end on /admin/jobs/<pk>/ (core.jobs), where progress and the result file are."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path

from core.errors import UserError
from core.excel import xlsx_response
from core.files import SafeFileField
from core.jobs import job_start
from core.models import BackgroundJob

from .exports import FILTER_KEYS, can_export, clean_filters, export_start
from .filters import RegistryFilterSet
from .imports import IMPORT_REASON, MAX_ROWS, TEMPLATE_FILENAME, can_import, import_job, template_workbook
from .models import Organisation

IMPORT_MAX_BYTES = 20 * 1024 * 1024


class ImportForm(forms.Form):
    file = SafeFileField(
        label="Excel 文件（.xlsx）",
        kinds=("xlsx",),
        max_bytes=IMPORT_MAX_BYTES,
        help_text=f"请使用导入模板填写，单个文件不超过 20 MB、{MAX_ROWS} 行。",
    )


def _require(allowed: bool, message: str):
    if not allowed:
        raise PermissionDenied(message)


def import_view(request):
    _require(can_import(request.user), "您没有批量导入社会组织的权限。")
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            job = job_start(
                kind="orgs_import",
                user=request.user,
                params={"filename": upload.name},
                runner=import_job,
                input_file=upload,
                title=f"导入社会组织：{upload.name}",
            )
            return redirect(job.get_absolute_url())
    else:
        form = ImportForm()
    recent = BackgroundJob.objects.filter(created_by=request.user, kind="orgs_import")[:5]
    return render(
        request,
        "orgs/exchange/import.html",
        {"form": form, "recent": recent, "page_title": "导入社会组织", "import_reason": IMPORT_REASON},
    )


def template_view(request):
    _require(can_import(request.user), "您没有批量导入社会组织的权限。")
    return xlsx_response(template_workbook(request.user), TEMPLATE_FILENAME)


def export_view(request):
    """GET shows the filter form, prefilled from the query string (the registry list's 导出
    link lands here), and starts nothing. POST starts the export job and goes to its page.
    The filters come from the POST data or, for a bare button posting to this URL with
    the list's query (`?org_type=…`), from the query string."""
    _require(can_export(request.user), "您没有导出社会组织名录的权限。")
    if request.method == "POST":
        source = request.POST if any(k in request.POST for k in FILTER_KEYS) else request.GET
        filters = clean_filters(source)
        try:
            job = export_start(user=request.user, filters=filters)
        except UserError as e:
            messages.error(request, e.message)
        else:
            return redirect(job.get_absolute_url())
    else:
        source = request.GET
    form = RegistryFilterSet(source or None, queryset=Organisation.objects.none(), user=request.user).form
    return render(request, "orgs/exchange/export.html", {"form": form, "page_title": "导出社会组织名录"})


urlpatterns = [
    path("import/", import_view, name="import"),
    path("import/template/", template_view, name="template"),
    path("export/", export_view, name="export"),
]
