"""/admin/grants/: the staff pages of grants, in the namespace grants_admin. Each staff
module keeps its own `urlpatterns`; they are composed here."""

from . import views

urlpatterns = [
    *views.urlpatterns,
]
