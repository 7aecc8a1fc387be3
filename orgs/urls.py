from django.urls import path

from . import views

app_name = "orgs"

urlpatterns = [
    path("new/", views.organisation_create, name="create"),
    path("<int:pk>/", views.organisation_detail, name="detail"),
    path("<int:pk>/edit/", views.organisation_edit, name="edit"),
    path("<int:pk>/submit/", views.organisation_submit, name="submit"),
    path("<int:pk>/documents/", views.document_upload, name="document_upload"),
    path("<int:pk>/documents/<int:doc_pk>/", views.document_download, name="document_download"),
    path("<int:pk>/invite/", views.member_invite, name="invite"),
    path("<int:pk>/change/", views.change_request, name="change_request"),
    path("invitations/<int:pk>/", views.invitation_detail, name="invitation"),
    path("invitations/<int:pk>/code/", views.invitation_code, name="invitation_code"),
    path("invitations/<int:pk>/accept/", views.invitation_accept, name="invitation_accept"),
]
