"""The one admin view that runs an action on an object, for every staff screen.

A detail screen lists `action_groups(obj, user)` (from core.workflow.available_actions,
so from the state machine itself) and renders them with `core/admin/actions.html`; each
button posts to this view, which finds the action by its slug, checks the user's
permission, validates the form, calls the registered service and either redirects back
with a success message or renders the detail screen again with the error and what the
user typed (status 400). An unknown action is a 404, a GET a 405, an object outside the
user's scope a 404 (the screen's `get_object` decides), a refused user a 403 page."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST
from wagtail.admin.auth import permission_required

from .admin_ui import admin_breadcrumbs
from .errors import UserError
from .ui import error_text, form_errors_text
from .workflow import Action, available_actions, model_actions


@dataclass
class ActionGroup:
    """Actions sharing one form, one button each."""

    key: str
    form: object
    actions: list[Action]

    @property
    def first(self) -> Action:
        return self.actions[0]

    @property
    def danger(self) -> bool:
        return all(a.danger for a in self.actions)


def action_groups(obj, user, *, bound: dict | None = None, initial: Callable | None = None, exclude=()):
    """The available actions grouped by form key, in screen order. `bound` holds forms
    posted back with errors (by key); `initial(action)` gives a fresh form's initial."""
    bound = bound or {}
    groups: dict[str, ActionGroup] = {}
    for action in available_actions(obj, user, exclude=exclude):
        if action.key not in groups:
            form = bound.get(action.key) or action.make_form(initial=initial(action) if initial else None)
            groups[action.key] = ActionGroup(action.key, form, [])
        groups[action.key].actions.append(action)
    return list(groups.values())


def apply_service_errors(form, exc) -> None:
    """Field errors of a service's ValidationError onto the form, where the user sees them."""
    if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            if field in form.fields:
                form.add_error(field, errs)


@dataclass
class ActionScreen:
    """What the generic view needs to know of one detail screen.

    get_object(request, pk)     the object, scoped to the user (Http404 outside)
    render(request, obj, *, bound, status, …)   the detail screen again
    view_permission             the Wagtail permission to open the screen at all
    forbidden_text(action)      the sentence a refused user reads
    success_url(obj, action, result)   where to go after the action ran (default: the
                                object's staff page, `get_admin_url()`)
    back_label(obj)             the detail screen's name on the 403 page's way back"""

    model: type
    get_object: Callable
    render: Callable
    view_permission: str
    forbidden_text: Callable
    section: tuple[str, str] = ("", "")
    success_url: Callable = lambda obj, action, result: obj.get_admin_url()
    back_label: Callable = str
    on_error: Callable | None = None  # (obj, action, form, exc) -> extra render kwargs
    initial: Callable | None = None  # (obj, action) -> initial of the posted form

    def as_view(self):
        @require_POST
        @permission_required(self.view_permission)
        def view(request, pk, action):
            return self.post(request, pk, action)

        return view

    def forbidden(self, request, obj, action: Action):
        back_label, back_url = self.back_label(obj), obj.get_admin_url()
        return TemplateResponse(
            request,
            "core/admin/forbidden.html",
            {
                "header_title": "无权操作",
                "breadcrumbs_items": admin_breadcrumbs(self.section, ("无权操作", None)),
                "message": self.forbidden_text(action),
                "back_url": back_url,
                "back_label": back_label,
                "action": action,
            },
            status=403,
        )

    def post(self, request, pk, slug):
        action = model_actions(self.model).get(slug)
        if action is None:
            raise Http404("没有这个操作。")
        obj = self.get_object(request, pk)
        if not action.permitted(obj, request.user):
            # Wagtail turns PermissionDenied into a redirect; a refused POST should say 403
            return self.forbidden(request, obj, action)
        initial = self.initial(obj, action) if self.initial else None
        form = action.make_form(request.POST, initial=initial, files=request.FILES)
        extra = {}
        if form.is_valid():
            data = form.service_kwargs() if hasattr(form, "service_kwargs") else form.cleaned_data
            try:
                result = action.run(obj, request.user, data)
            except (UserError, ValidationError, PermissionDenied) as exc:
                messages.error(request, error_text(exc))
                apply_service_errors(form, exc)
                if self.on_error:
                    extra = self.on_error(obj, action, form, exc)
            else:
                messages.success(request, action.success_message(obj))
                return redirect(self.success_url(obj, action, result))
        else:
            messages.error(request, form_errors_text(form))
        # the screen again as it now is, with what the user typed
        return self.render(request, self.get_object(request, pk), bound={action.key: form}, status=400, **extra)


def edit_view_render(viewset, bound_attr: str) -> Callable:
    """An ActionScreen `render` for objects whose detail screen is a ModelViewSet's edit
    view: the edit screen again, as it now is, with the action's bound form left on the
    request under `bound_attr` for the view's context to pick up."""

    def render(request, obj, *, bound=None, status=200):
        request.method = "GET"
        setattr(request, bound_attr, bound)
        response = viewset.edit_view(request, pk=str(obj.pk))
        response.status_code = status
        return response

    return render
