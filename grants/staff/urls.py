"""/admin/grants/: the staff pages of grants, in the namespace grants_admin. Each staff
module keeps its own `urlpatterns`; they are composed here."""

from . import admin_lists, calls, experts, exports, linkage, needs, objections, proposals, review, reviews

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
]
