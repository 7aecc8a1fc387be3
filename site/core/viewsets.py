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
as for `accounts.selectors.scope`) or overrides `scope_queryset(queryset, user)` and
`instance_in_scope(instance, user)` together.

The viewset also registers a `ScopedPermissionPolicy` for its model, so what Wagtail asks
of the model's permission policy about one object (editing-session pings, listing
buttons, the copy view) gets the same answer. Every `ScopedModelViewSet` is listed in
`scoped_viewsets`: the site-history report and the tests look there."""

from functools import cache

from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import Http404
from django.utils.functional import cached_property
from wagtail.admin.views import generic
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import policy_registry, register_permission_policy

from accounts.selectors import region_in_scope, scope

from .admin_tables import PythonTable

OUT_OF_SCOPE_MESSAGE = "所选地区不在您的管辖范围内，请选择您所辖地区内的地区后再保存。"


class ScopedViewMixin:
    """Added to every view a `ScopedModelViewSet` constructs; `scoped_viewset` is passed in
    by the viewset (Wagtail only passes kwargs the view class declares)."""

    scoped_viewset = None

    def setup(self, request, *args, **kwargs):
        # Before super().setup(): several generic views load their object there.
        pk = kwargs.get(getattr(self, "pk_url_kwarg", "pk"))
        viewset = self.scoped_viewset
        if (
            pk is not None
            and viewset
            and not viewset.scoped_queryset(request.user).filter(pk=unquote(str(pk))).exists()
        ):
            raise Http404("不在您的管辖范围内，或已被删除。")
        super().setup(request, *args, **kwargs)

    def form_valid(self, form):
        instance = getattr(form, "instance", None)
        if instance is not None and not self.scoped_viewset.instance_in_scope(instance, self.request.user):
            field = self.scoped_viewset.scope_region_field.split("__")[0]
            form.add_error(field if field in form.fields else None, OUT_OF_SCOPE_MESSAGE)
            return self.form_invalid(form)
        return super().form_valid(form)


class ScopedIndexMixin(ScopedViewMixin):
    @cached_property
    def table_class(self):
        # the listing's body in Python (core.admin_tables), whatever table the view chose
        base = super().table_class
        return base if issubclass(base, PythonTable) else type(f"Python{base.__name__}", (PythonTable, base), {})

    def get_base_queryset(self):
        return self.scoped_viewset.scope_queryset(super().get_base_queryset(), self.request.user)


@cache
def scoped_view_class(view_class: type) -> type:
    """The scoped subclass of a generic view class (one per class, shared by all viewsets)."""
    if issubclass(view_class, ScopedViewMixin):
        return view_class
    mixin = ScopedIndexMixin if issubclass(view_class, generic.IndexView) else ScopedViewMixin
    return type(f"Scoped{view_class.__name__}", (mixin, view_class), {"__module__": view_class.__module__})


#: every registered ScopedModelViewSet, by model
scoped_viewsets: dict[type, "ScopedModelViewSet"] = {}


class ScopedPermissionPolicy(ModelPermissionPolicy):
    """Django model permissions, and for one object also the viewset's scope."""

    def __init__(self, model, viewset):
        super().__init__(model)
        self.viewset = viewset

    def user_has_permission_for_instance(self, user, action, instance):
        return self.user_has_permission(user, action) and self.viewset.instance_in_scope(instance, user)

    def instances_user_has_any_permission_for(self, user, actions):
        return self.viewset.scope_queryset(super().instances_user_has_any_permission_for(user, actions), user)


class ScopedModelViewSet(ModelViewSet):
    #: Lookup path from the model to its Region FK, e.g. "region" or "organisation__region".
    scope_region_field = "region"

    def scope_queryset(self, queryset: QuerySet, user) -> QuerySet:
        """`queryset` limited to what `user` may see. Override for other rules."""
        return scope(queryset, user, region_field=self.scope_region_field)

    def scoped_queryset(self, user) -> QuerySet:
        return self.scope_queryset(self.model._default_manager.all(), user)

    def instance_in_scope(self, instance, user) -> bool:
        """Whether a (possibly unsaved) object lies in the user's scope: its region does."""
        region = instance
        for part in self.scope_region_field.split("__"):
            region = getattr(region, part, None)
            if region is None:
                break
        return region_in_scope(user, region)

    def construct_view(self, view_class, **kwargs):
        return super().construct_view(scoped_view_class(view_class), scoped_viewset=self, **kwargs)

    def register_scope(self):
        """List the viewset in `scoped_viewsets` and give its model the scoped policy (unless
        the model already has one of its own). Called by on_register; a subclass that
        replaces on_register calls it too."""
        scoped_viewsets.setdefault(self.model, self)
        if policy_registry.get_by_type(self.model, fallback=False) is None:
            register_permission_policy(self.model, ScopedPermissionPolicy(self.model, self), exact_class=True)

    def on_register(self):
        self.register_scope()
        super().on_register()


class ServiceSaveMixin:
    """For a generic create/edit view whose `save_instance` calls a service: the service's
    refusal (ValidationError, UserError, PermissionDenied) goes onto the form, at the field
    it names, else above the form, and the page is shown again with everything typed and
    Wagtail's own error banner."""

    def form_valid(self, form):
        from django.core.exceptions import PermissionDenied, ValidationError

        from .errors import UserError
        from .ui import apply_errors, error_text

        try:
            return super().form_valid(form)
        except (ValidationError, UserError, PermissionDenied) as exc:
            if isinstance(exc, ValidationError):
                apply_errors(form, exc)
            else:
                form.add_error(None, error_text(exc))
            self.produced_error_code = "validation_error"
            self.produced_error_message = self.get_error_message()
            return self.form_invalid(form)
