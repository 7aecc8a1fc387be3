"""/me/proposals/: the organisation's side of a call (grants.views.proposals)."""

from django.urls import path

from .views import proposals

app_name = "grants"

urlpatterns = [
    path("<int:pk>/", proposals.proposal, name="proposal"),
]
