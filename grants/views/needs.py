from django.http import HttpResponse


def need(request, pk):  # replaced by the public need page
    return HttpResponse(status=501)
