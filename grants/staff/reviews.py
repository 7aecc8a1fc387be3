"""The reviewer's screens (评审任务): the queue of their assignments and the scoring screen."""

from django.http import Http404
from django.urls import path


def queue(request):  # replaced by the reviewer queue
    raise Http404


def review(request, pk):  # replaced by the scoring screen
    raise Http404


urlpatterns = [
    path("reviews/", queue, name="reviews"),
    path("reviews/<int:pk>/", review, name="review"),
]
