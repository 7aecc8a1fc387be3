"""/needs/: the public needs (民呼我应): the list, one need, the submission form."""

from django.urls import path

from .views import needs

app_name = "grants_public"

urlpatterns = [
    path("<int:pk>/", needs.need, name="need"),
]
