"""/needs/: the public needs (民呼我应): the list, one need, the submission form."""

from django.urls import path

from .views import needs

app_name = "grants_public"

urlpatterns = [
    path("", needs.needs, name="needs"),
    path("new/", needs.need_new, name="new"),
    path("thanks/", needs.need_thanks, name="thanks"),
    path("<int:pk>/", needs.need, name="need"),
]
