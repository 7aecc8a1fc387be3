from django.http import HttpResponse


def proposal(request, pk):  # replaced by the staff proposal page
    return HttpResponse(status=501)


def need(request, pk):  # replaced by the staff need page
    return HttpResponse(status=501)
