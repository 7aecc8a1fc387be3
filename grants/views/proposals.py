from django.http import HttpResponse


def proposal(request, pk):  # replaced by the portal's proposal page
    return HttpResponse(status=501)
