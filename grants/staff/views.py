"""Temporary: the names other modules reverse until the real staff pages replace them
(grants/staff/proposals.py, grants/staff/needs.py). Delete this module when they land."""

from django.http import HttpResponse
from django.urls import path


def proposal(request, pk):
    return HttpResponse(status=501)


def need(request, pk):
    return HttpResponse(status=501)


urlpatterns = [
    path("proposals/<int:pk>/", proposal, name="proposal"),
    path("needs/<int:pk>/", need, name="need"),
]
