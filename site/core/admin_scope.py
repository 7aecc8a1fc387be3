"""Region scope in the screens Wagtail itself provides (not built from a project viewset).

What each staff role needs of them (civil-affairs and base staff are region-scoped; only a
superuser sees everything):

- Site history report (/admin/reports/site-history/): kept for every admin user, but a log
  entry of a scoped model (any model of a `ScopedModelViewSet`) is listed only when its
  object lies in the user's scope, and the user filter names only people found there.
  `ScopedSiteHistoryView` replaces Wagtail's view at the same URL (config/urls.py).
- Page chooser: only the pages the user may explore. The public site is edited by site
  administrators; staff roles have no page permissions, so they see no pages. The admin
  API (/admin/api/main/pages/) already limits itself to explorable pages.
- Image and document choosers: Wagtail shows only what the user's collection permissions
  allow; on top of that, an image or document used by an object outside the user's scope
  (a base photo of another district) is not offered.
- Editing-session pings: answered from the model's permission policy, which a
  `ScopedModelViewSet` registers scoped (core.viewsets), so an object outside the scope
  is a 404."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.urls import path
from django.views.decorators.cache import never_cache
from wagtail import hooks
from wagtail.admin.auth import require_admin_access
from wagtail.admin.views.reports.audit_logging import LogEntriesView, SiteHistoryReportFilterSet
from wagtail.log_actions import registry as log_registry
from wagtail.models import BaseLogEntry
from wagtail.permissions import page_permission_policy

from .viewsets import scoped_viewsets


def _is_superuser(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def scope_log_entries(queryset: QuerySet, user) -> QuerySet:
    """Log entries of scoped models only for objects in the user's scope; others unchanged."""
    if _is_superuser(user) or not issubclass(queryset.model, BaseLogEntry):
        return queryset
    if not {"content_type", "object_id"} <= {f.name for f in queryset.model._meta.get_fields()}:
        return queryset  # page log entries: pages are not regional
    for model, viewset in scoped_viewsets.items():
        content_type = ContentType.objects.get_for_model(model)
        in_scope = viewset.scoped_queryset(user).annotate(_pk_text=Cast("pk", CharField())).values("_pk_text")
        queryset = queryset.filter(~Q(content_type=content_type) | Q(object_id__in=in_scope))
    return queryset


class ScopedSiteHistoryFilterSet(SiteHistoryReportFilterSet):
    def get_user_choices(self):
        from django.contrib.auth import get_user_model

        user = self.request.user
        ids = set()
        for log_model in log_registry.get_log_entry_models():
            ids.update(scope_log_entries(log_model.objects.viewable_by_user(user), user).get_user_ids())
        User = get_user_model()
        return User.objects.filter(pk__in=ids).order_by(User.USERNAME_FIELD)


class ScopedSiteHistoryView(LogEntriesView):
    filterset_class = ScopedSiteHistoryFilterSet

    def filter_queryset(self, queryset):
        # called once per log model, on its sub-query, before the union
        return scope_log_entries(super().filter_queryset(queryset), self.request.user)


# mounted before Wagtail's admin URLs in config/urls.py, so these paths resolve here
site_history_urlpatterns = [
    path("", never_cache(require_admin_access(ScopedSiteHistoryView.as_view()))),
    path("results/", never_cache(require_admin_access(ScopedSiteHistoryView.as_view(results_only=True)))),
]


# ---- choosers ----------------------------------------------------------------------------------


@hooks.register("construct_page_chooser_queryset")
def pages_the_user_may_explore(pages, request):
    if _is_superuser(request.user):
        return pages
    return pages.filter(pk__in=page_permission_policy.explorable_instances(request.user).values("pk"))


def used_outside_scope(target_model, user) -> Q | None:
    """Q matching `target_model` rows (images, documents) that an object of a scoped model
    outside the user's scope refers to by a foreign key; None when there is none."""
    q = None
    for model, viewset in scoped_viewsets.items():
        for field in model._meta.concrete_fields:
            if field.many_to_one and field.related_model is target_model:
                outside = (
                    model._default_manager.exclude(pk__in=viewset.scoped_queryset(user).values("pk"))
                    .filter(**{f"{field.attname}__isnull": False})
                    .values(field.attname)
                )
                q = Q(pk__in=outside) if q is None else q | Q(pk__in=outside)
    return q


def _without_outside_scope(queryset, request):
    if _is_superuser(request.user):
        return queryset
    outside = used_outside_scope(queryset.model, request.user)
    return queryset if outside is None else queryset.exclude(outside)


hooks.register("construct_image_chooser_queryset", _without_outside_scope)
hooks.register("construct_document_chooser_queryset", _without_outside_scope)
