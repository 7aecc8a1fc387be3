"""Staff screens for bulk data, inside the Wagtail admin (URLs in exchange_hooks.py):

    /admin/orgs/import/            upload an .xlsx; runs as a background job
    /admin/orgs/import/template/   the template with Chinese headers and an example row
    /admin/orgs/export/?<filters>  export the filtered registry; runs as a background job

Both jobs end on /admin/jobs/<pk>/ (core.jobs), where progress and the result file are."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import content_disposition_header

from accounts.selectors import regions_for
from core.files import SafeFileField
from core.jobs import job_start
from core.models import BackgroundJob

from .exports import ExportError, can_export, clean_filters, export_start
from .filters import RegistryFilterForm
from .imports import IMPORT_REASON, MAX_ROWS, TEMPLATE_FILENAME, can_import, import_job, template_workbook

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
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
    response = HttpResponse(template_workbook(request.user), content_type=XLSX_MIME)
    response["Content-Disposition"] = content_disposition_header(True, TEMPLATE_FILENAME)
    response["Cache-Control"] = "private, no-store"
    return response


def export_view(request):
    """With no query string: a small form to choose filters. With one (from the registry
    list's 导出 link, or that form): start the export job and go to its page."""
    _require(can_export(request.user), "您没有导出社会组织名录的权限。")
    if request.GET:
        filters = clean_filters(request.GET)
        try:
            job = export_start(user=request.user, filters=filters)
        except ExportError as e:
            messages.error(request, e.message)
        else:
            return redirect(job.get_absolute_url())
    form = RegistryFilterForm(data=request.GET or None, regions=regions_for(request.user))
    return render(request, "orgs/exchange/export.html", {"form": form, "page_title": "导出社会组织名录"})


urlpatterns = [
    path("import/", import_view, name="import"),
    path("import/template/", template_view, name="template"),
    path("export/", export_view, name="export"),
]
