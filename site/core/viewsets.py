"""`ScopedModelViewSet`: a Wagtail `ModelViewSet` whose every generated view sees only the
objects within the user's region scope.

Wagtail builds each screen (index and its results, add, edit, delete, inspect, history,
history-results, usage, copy, reorder, and any view a subclass adds through
`construct_view`) from a different generic class, and each looks its object up in its own
way. Rather than override each lookup, `construct_view` wraps every view class in
`ScopedViewMixin`, which

- 404s any request whose URL names an object (`pk`) outside the scope, before the view
  loads it, so a view added later is covered without further code;
- filters the listing of index views to the scope;
- refuses to save an object that would end up outside the scope (a form error, not a 500).

A viewset states its scope with `scope_region_field` (the lookup path to the Region FK,
as for `accounts.selectors.scope`) or overrides `scope_queryset(queryset, request)`."""

from functools import cache

from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import Http404
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet

from accounts.selectors import region_in_scope, scope

OUT_OF_SCOPE_MESSAGE = "所选地区不在您的管辖范围内，请选择您所辖地区内的地区后再保存。"


class ScopedViewMixin:
    """Added to every view a `ScopedModelViewSet` constructs; `scoped_viewset` is passed in
    by the viewset (Wagtail only passes kwargs the view class declares)."""

    scoped_viewset = None

    def setup(self, request, *args, **kwargs):
        # Before super().setup(): several generic views load their object there.
        pk = kwargs.get(getattr(self, "pk_url_kwarg", "pk"))
        viewset = self.scoped_viewset
        if pk is not None and viewset and not viewset.scoped_queryset(request).filter(pk=unquote(str(pk))).exists():
            raise Http404("不在您的管辖范围内，或已被删除。")
        super().setup(request, *args, **kwargs)

    def form_valid(self, form):
        instance = getattr(form, "instance", None)
        if instance is not None and not self.scoped_viewset.instance_in_scope(instance, self.request):
            field = self.scoped_viewset.scope_region_field.split("__")[0]
            form.add_error(field if field in form.fields else None, OUT_OF_SCOPE_MESSAGE)
            return self.form_invalid(form)
        return super().form_valid(form)


class ScopedIndexMixin(ScopedViewMixin):
    def get_base_queryset(self):
        return self.scoped_viewset.scope_queryset(super().get_base_queryset(), self.request)


@cache
def scoped_view_class(view_class: type) -> type:
    """The scoped subclass of a generic view class (one per class, shared by all viewsets)."""
    if issubclass(view_class, ScopedViewMixin):
        return view_class
    mixin = ScopedIndexMixin if issubclass(view_class, generic.IndexView) else ScopedViewMixin
    return type(f"Scoped{view_class.__name__}", (mixin, view_class), {"__module__": view_class.__module__})


class ScopedModelViewSet(ModelViewSet):
    #: Lookup path from the model to its Region FK, e.g. "region" or "organisation__region".
    scope_region_field = "region"

    def scope_queryset(self, queryset: QuerySet, request) -> QuerySet:
        """`queryset` limited to what `request.user` may see. Override for other rules."""
        return scope(queryset, request.user, region_field=self.scope_region_field)

    def scoped_queryset(self, request) -> QuerySet:
        return self.scope_queryset(self.model._default_manager.all(), request)

    def instance_in_scope(self, instance, request) -> bool:
        """Whether a (possibly unsaved) object lies in the user's scope: its region is."""
        region = instance
        for part in self.scope_region_field.split("__"):
            region = getattr(region, part, None)
            if region is None:
                break
        return region_in_scope(request.user, region)

    def construct_view(self, view_class, **kwargs):
        return super().construct_view(scoped_view_class(view_class), scoped_viewset=self, **kwargs)
