"""/me/proposals/: the organisation's side of a call (grants.views.proposals)."""

from django.urls import path

from .views import agreements, linkage, proposals, reports
from .views import evaluations as _evaluations  # noqa: F401  (the 项目评估 section of the applicant's page)
from .views import tranches as _tranches  # noqa: F401  (the 资金拨付 section of the applicant's page)

app_name = "grants"

urlpatterns = [
    path("", proposals.index, name="index"),
    path("start/<int:call_pk>/", proposals.start, name="start"),
    path("<int:pk>/", proposals.proposal, name="proposal"),
    path("<int:pk>/save/<slug:section>/", proposals.save, name="save"),
    path("<int:pk>/submit/", proposals.submit, name="submit"),
    path("<int:pk>/withdraw/", proposals.withdraw, name="withdraw"),
    path("<int:pk>/pdf/", proposals.pdf, name="pdf"),
    path("<int:pk>/attachments/", proposals.attachment_upload, name="attachment_upload"),
    path("<int:pk>/attachments/<int:att_pk>/", proposals.attachment_download, name="attachment"),
    path("<int:pk>/attachments/<int:att_pk>/delete/", proposals.attachment_delete, name="attachment_delete"),
    *linkage.urlpatterns,  # recommendations/ (三级联动, grants/views/linkage.py)
    *agreements.urlpatterns,  # <pk>/agreement/… (项目协议, grants/views/agreements.py)
    *reports.urlpatterns,  # <pk>/reports/ (进度报告, grants/views/reports.py)
]
