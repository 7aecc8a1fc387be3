"""/me/incubation/: the organisation's side of incubation."""

from django.urls import path

from . import pdf_views, views

app_name = "incubator"

urlpatterns = [
    path("", views.index, name="index"),
    path("apply/<int:base_pk>/", views.apply, name="apply"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    # the documents (入驻协议, 出壳证书): incubator/pdf_views.py
    path("<int:pk>/agreement.pdf", pdf_views.agreement_pdf, name="agreement_pdf"),
    path("<int:pk>/certificate.pdf", pdf_views.certificate_pdf, name="certificate_pdf"),
]
