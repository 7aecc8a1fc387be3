"""The public pages of grants, in the namespace grants_public (mounted at the site root by
config/urls.py, before Wagtail's pages):

    /needs/                     the public needs (民呼我应): the list, one need, the submission form
    /opendata/                  the awarded grants as open data (360Giving): a page, grants.json, grants.csv"""

from django.urls import path

from .views import needs, opendata

app_name = "grants_public"

urlpatterns = [
    path("needs/", needs.needs, name="needs"),
    path("needs/new/", needs.need_new, name="new"),
    path("needs/thanks/", needs.need_thanks, name="thanks"),
    path("needs/<int:pk>/", needs.need, name="need"),
    path("opendata/", opendata.index, name="opendata"),
    path("opendata/grants.json", opendata.grants_json, name="opendata_json"),
    path("opendata/grants.csv", opendata.grants_csv, name="opendata_csv"),
]
