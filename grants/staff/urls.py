"""/admin/grants/: the staff pages of grants, in the namespace grants_admin. Each staff
module keeps its own `urlpatterns`; they are composed here."""

from . import (  # 项目评估 (scoring, PDF), 进度报告 (staff page, photos, 审阅)
    admin_lists,
    agreements,  # 项目协议: its actions and downloads
    calls,
    evaluations,
    experts,
    exports,
    exports_funding,  # 导出: 立项项目, 拨付, 评估, 进度报告 (Excel)
    linkage,
    needs,
    objections,
    proposals,
    reports,
    review,
    reviews,
    tranches,  # 拨付管理, 资金概览
)

urlpatterns = [
    *calls.urlpatterns,
    *admin_lists.urlpatterns,
    *proposals.urlpatterns,
    *needs.urlpatterns,
    *linkage.urlpatterns,
    *exports.urlpatterns,
    *reviews.urlpatterns,
    *review.urlpatterns,
    *objections.urlpatterns,
    *experts.urlpatterns,
    *tranches.urlpatterns,
    *agreements.urlpatterns,
    *exports_funding.urlpatterns,
    *reports.urlpatterns,
    *evaluations.urlpatterns,
]
