"""/admin/grants/: the staff pages of grants, in the namespace grants_admin."""

from django.urls import path

from . import views

urlpatterns = [
    path("proposals/<int:pk>/", views.proposal, name="proposal"),
    path("needs/<int:pk>/", views.need, name="need"),
]
