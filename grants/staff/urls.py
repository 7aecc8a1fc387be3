"""/admin/grants/: the staff pages of grants, in the namespace grants_admin. Each staff
module keeps its own `urlpatterns`; they are composed here."""

from . import admin_lists, calls, exports, linkage, needs, proposals, reviews

urlpatterns = [
    *calls.urlpatterns,
    *admin_lists.urlpatterns,
    *proposals.urlpatterns,
    *needs.urlpatterns,
    *linkage.urlpatterns,
    *exports.urlpatterns,
    *reviews.urlpatterns,
]
