"""One way to change state, for every lifecycle in the project.

A lifecycle is written once, in its model: each `@transition` carries its Chinese label,
who may run it (`permission=`, a callable `(instance, user) -> bool`) and what a screen
needs to offer it (`custom=`: the form, whether a reason is required, a confirmation,
the success message). Services call `transition()`, which checks that permission, the
reason, and the state; runs the transition; writes the status and the columns the action
records in ONE `UPDATE` together with its audit row (django-fsm-log's StateLog); and
sends notices. Screens ask `available_actions(obj, user)` what to offer, and one generic
admin view (core.admin_actions) runs the service registered for the action.

Models use `FSMField(protected=True)` and `ConcurrentTransitionMixin` (`WorkflowModel`),
so when two staff act on the same object at once the second save fails and nothing of it
is kept.

Keys of a transition's `custom=`:
  label     the action's name on buttons, in messages and in the history ("审核通过")
  reason    "required" | "optional" (omitted: the action asks for no reason)
  reason_prompt  the message when a required reason is missing
  form      dotted path of the form class a screen shows (default: a reason field if
            `reason` is set, otherwise a plain confirmation)
  slug      the action's name in URLs (default: the transition name with "-" for "_")
  group     actions sharing a group share one form with a button each
  heading   the group's heading on a screen (default: the label)
  note_template  a template a screen renders above the group's form
  danger    True for destructive actions (red button, confirmation)
  confirm   a sentence asked before running it
  success   the flash message after it ran; "{obj}" is the object's str
  intro     a sentence shown above the form
  order     position on the screen (default: declaration order)
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils.module_loading import import_string
from django_fsm import (
    ConcurrentTransition,
    ConcurrentTransitionMixin,
    FSMFieldMixin,
    TransitionNotAllowed,
    can_proceed,
)
from django_fsm_log.helpers import FSMLogDescriptor

from .errors import UserError

DEFAULT_REASON_PROMPT = "请填写理由，对方将在通知和办理记录中看到这段说明。"


class WorkflowError(UserError):
    """A status change that may not happen; the message is shown to the user as is."""


# ---- reading a transition's metadata ---------------------------------------------------------


def _meta(model_or_instance, name: str):
    cls = model_or_instance if isinstance(model_or_instance, type) else type(model_or_instance)
    method = getattr(cls, name, None)
    meta = getattr(method, "_django_fsm", None)
    if meta is None:
        raise TypeError(f"{cls.__name__}.{name} is not a transition")
    return meta


def state_field(model_or_instance, name: str) -> str:
    """The name of the FSM field the transition `name` moves (status, state, …)."""
    f = _meta(model_or_instance, name).field
    return f if isinstance(f, str) else f.name


def transition_custom(model_or_instance, name: str) -> dict:
    """The `custom=` dict of a transition (the same for each of its sources)."""
    for t in _meta(model_or_instance, name).transitions.values():
        if t.custom:
            return t.custom
    return {}


def transition_label(instance, name: str) -> str:
    try:
        return transition_custom(instance, name).get("label") or name
    except TypeError:
        return name


def status_display(instance, field: str = "status") -> str:
    getter = getattr(instance, f"get_{field}_display", None)
    return str(getter()) if getter else str(getattr(instance, field, ""))


def _state_now(instance, name: str) -> str:
    return status_display(instance, state_field(instance, name))


def may_run(instance, name: str, user) -> bool:
    """Whether `user` holds the transition's own permission on `instance`, whatever its
    current state. A transition without `permission=` may be run by its service only
    when the service says so (`allowed=`)."""
    for t in _meta(instance, name).transitions.values():
        return bool(t.permission) and t.has_perm(instance, user)
    return False


# ---- running one ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    """A notification to send when the transition has been made: `url` may be a string or
    an object (its `get_absolute_url()`)."""

    recipients: Iterable
    title: str
    body: str = ""
    url: object = ""


def notice_url(target) -> str:
    if isinstance(target, str):
        return target
    return target.get_absolute_url() if target is not None else ""


def send_notices(notices: Iterable[Notice]) -> None:
    from .services import notify

    for n in notices:
        notify(recipients=n.recipients, title=n.title, body=n.body, url=notice_url(n.url))


def transition(
    obj,
    name: str,
    *,
    by,
    allowed: bool | None = None,
    denied: str = "",
    reason: str = "",
    reason_required: bool | None = None,
    record: dict | None = None,
    notify: Iterable[Notice] | Callable[[], Iterable[Notice]] = (),
    log_reason: str | None = None,
    **kwargs,
):
    """Run transition `name` on `obj` for user `by`, the one way the project changes state.

    - Permission: `allowed` if the caller decides (e.g. "operator or the organisation's
      负责人"), otherwise the transition's own `permission=`. Refused: PermissionDenied
      with `denied` or a sentence naming the action.
    - Reason: stripped; required when `reason_required` (default: the transition's
      `custom["reason"] == "required"`), else WorkflowError with the prompt.
    - State: WorkflowError naming the current state when it does not allow the action or
      its conditions fail, or when someone else changed it first.
    - Writes the state, auto_now columns and `record` (column → value; set on `obj` too)
      in one UPDATE with the audit row (reason in the log, or `log_reason` when the log
      should say more than the reason kept on the object), then sends `notify` (a list of
      Notice, or a callable returning one, evaluated after the transition ran) inside the
      same transaction: a rolled-back action leaves no notice and sends no mail.
    Returns what the transition method returned."""
    custom = transition_custom(obj, name)
    label = custom.get("label") or name
    if allowed is None:
        allowed = may_run(obj, name, by)
    if not allowed:
        raise PermissionDenied(denied or f"您无权执行“{label}”。")
    reason = (reason or "").strip()
    if reason_required is None:
        reason_required = custom.get("reason") == "required"
    if reason_required and not reason:
        raise WorkflowError(custom.get("reason_prompt") or DEFAULT_REASON_PROMPT)
    record = dict(record or {})
    with transaction.atomic():
        result = run_transition(
            obj, name, by=by, reason=reason if log_reason is None else log_reason, record=record, **kwargs
        )
        send_notices(notify() if callable(notify) else notify)
    return result


def run_transition(instance, name: str, *, by, reason: str = "", record: dict | None = None, **kwargs):
    """The mechanics under `transition()`, for callers that have checked permission and
    the reason themselves (a chain of transitions inside one service).

    Only the state, auto_now timestamps and `record` columns are written, so a copy of the
    row loaded earlier never overwrites columns that other actions changed meanwhile."""
    method = getattr(instance, name)
    label = transition_label(instance, name)
    if not can_proceed(method):
        raise WorkflowError(f"当前状态为“{_state_now(instance, name)}”，不能执行“{label}”。")
    record = record or {}
    try:
        with transaction.atomic():
            with FSMLogDescriptor(instance, "by", by), FSMLogDescriptor(instance, "description", reason or None):
                result = method(**kwargs)
            for column, value in record.items():
                setattr(instance, column, value)
            instance.save(update_fields=[*_status_fields(instance), *record])
    except ConcurrentTransition:
        # protected FSM fields cannot be refreshed in place: read the winner's state anew
        current = type(instance)._default_manager.get(pk=instance.pk)
        raise WorkflowError(
            f"该记录刚被其他人处理，当前状态为“{_state_now(current, name)}”。请刷新后查看，无需重复操作。"
        ) from None
    except TransitionNotAllowed:
        raise WorkflowError(f"当前状态为“{_state_now(instance, name)}”，不能执行“{label}”。") from None
    return result


def require_can_proceed(instance, name: str) -> None:
    """Say why a transition cannot happen before anything else is claimed or written
    (a desk, a counter) by a service that does work before the transition itself."""
    if not can_proceed(getattr(instance, name)):
        raise WorkflowError(f"当前状态为“{_state_now(instance, name)}”，不能执行“{transition_label(instance, name)}”。")


def _status_fields(instance) -> list[str]:
    return [
        f.name for f in instance._meta.concrete_fields if isinstance(f, FSMFieldMixin) or getattr(f, "auto_now", False)
    ]


# ---- the first history row and bulk rows ------------------------------------------------------


def log_created(obj, *, by, reason: str = "", label: str = "创建") -> None:
    """The first row of an object's history, written when it is created, so the history
    starts when the object does (source and target are both its initial state)."""
    log_event(obj, CREATED, by=by, reason=reason or label)


CREATED = "create"


def log_event(obj, name: str, *, by, reason: str = "") -> None:
    """An audit row for something done to `obj` that does not change its state (an amount
    adjusted, a reminder sent): source and target are its current state, `name` says what."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone
    from django_fsm_log.models import StateLog

    fsm = next(f for f in obj._meta.concrete_fields if isinstance(f, FSMFieldMixin))
    state = getattr(obj, fsm.name)
    StateLog.objects.create(
        timestamp=timezone.now(),
        by=by if getattr(by, "pk", None) else None,
        source_state=state,
        state=state,
        transition=name,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        description=reason or None,
    )


def log_bulk(model, object_ids, steps, *, by, reason: str = "", at=None) -> int:
    """Write the audit rows that `run_transition` would write for each object in
    `object_ids` going through `steps` ([(transition name, source, target), …]), in one
    INSERT. For bulk work (an import of thousands of rows) whose path the caller has
    already checked against the state machine. Returns the number of rows written."""
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone
    from django_fsm_log.models import StateLog

    ct = ContentType.objects.get_for_model(model)
    at = at or timezone.now()
    by = by if getattr(by, "pk", None) else None
    rows = [
        StateLog(
            timestamp=at,
            by=by,
            source_state=source,
            state=target,
            transition=name,
            content_type=ct,
            object_id=pk,
            description=reason or None,
        )
        for pk in object_ids
        for name, source, target in steps
    ]
    StateLog.objects.bulk_create(rows)
    return len(rows)


# ---- what a screen offers ---------------------------------------------------------------------

_SERVICES: dict[tuple[type, str], Callable] = {}
_EXTRA: dict[type, list["Action"]] = {}


def _object_kwarg(func: Callable) -> str:
    import inspect

    for p in inspect.signature(func).parameters.values():
        if p.kind is p.KEYWORD_ONLY:
            return p.name
    raise TypeError(f"{func.__name__} takes no keyword-only object argument")


def _bind(func, fixed: dict):
    key = _object_kwarg(func)

    def run(obj, by, data):
        return func(**{key: obj, "by": by, **data, **fixed})

    run.service = func
    return run


def action_service(model: type, *transition_names: str, **fixed):
    """Register the decorated service as the one a screen calls to run these transitions
    of `model`: `service(<obj kwarg>=obj, by=user, **form data, **fixed)`, the object
    passed under the service's first keyword-only parameter."""

    def register(func):
        for name in transition_names:
            _meta(model, name)  # a misspelt name fails at import, not on a click
            _SERVICES[(model, name)] = _bind(func, fixed)
        return func

    return register


def extra_action(model: type, slug: str, label: str, *, permitted: Callable, when: Callable | None = None, **options):
    """Register the decorated service as an action of `model` that is not one of its
    transitions (recording a service log, a fact, a recommendation): offered when
    `when(obj)` holds to users for whom `permitted(obj, user)` does. `options` are the
    Action's screen fields (form, group, danger, confirm, success, intro, order, fixed)."""

    def register(func):
        fixed = options.pop("fixed", {})
        _EXTRA.setdefault(model, []).append(
            Action(
                slug=slug,
                label=label,
                run=_bind(func, fixed),
                permitted_fn=permitted,
                when_fn=when,
                order=options.pop("order", 1000 + len(_EXTRA.get(model, []))),
                **options,
            )
        )
        return func

    return register


@dataclass
class Action:
    """One action a screen may offer, with what it needs to render and run it."""

    slug: str
    label: str
    run: Callable  # run(obj, by, cleaned_data)
    form: str = ""  # dotted path of the form class
    reason: str = ""  # "required" | "optional" | ""
    reason_label: str = ""
    reason_help: str = ""
    group: str = ""
    heading: str = ""  # the group's heading on the screen (default: the label)
    danger: bool = False
    confirm: str = ""
    success: str = ""
    intro: str = ""
    note_template: str = ""  # a template the screen renders above the group's form
    order: int = 0
    transition: str = ""  # the transition it runs, "" for an extra action
    permitted_fn: Callable | None = None
    when_fn: Callable | None = None

    @property
    def key(self) -> str:
        """The form prefix: actions of one group share one form."""
        return self.group or self.slug

    def permitted(self, obj, user) -> bool:
        if self.transition:
            return may_run(obj, self.transition, user)
        return bool(self.permitted_fn(obj, user))

    def applies(self, obj) -> bool:
        """Whether the object's state allows it now (transition available, conditions met)."""
        if self.transition:
            return can_proceed(getattr(obj, self.transition))
        return self.when_fn is None or bool(self.when_fn(obj))

    def make_form(self, data=None, *, initial=None, files=None):
        """The action's form; `files` (request.FILES) reach a form with a file field."""
        if self.form:
            cls = import_string(self.form)
            extra = {"files": files} if files is not None and _takes_files(cls) else {}
            return cls(data, prefix=self.key, initial=initial, **extra)
        from .forms_actions import ConfirmForm, ReasonForm

        if self.reason:
            return ReasonForm(
                data, prefix=self.key, initial=initial, label=self.reason_label, help_text=self.reason_help
            )
        return ConfirmForm(data, prefix=self.key, initial=initial)

    def success_message(self, obj) -> str:
        return (self.success or "已{label}：“{obj}”。").format(obj=obj, label=self.label)


def _takes_files(form_class) -> bool:
    from django import forms

    return any(isinstance(f, forms.FileField) for f in form_class.base_fields.values())


def _transition_action(model, name: str, run: Callable, order: int) -> Action:
    c = transition_custom(model, name)
    return Action(
        slug=c.get("slug") or name.replace("_", "-"),
        label=c.get("label") or name,
        run=run,
        form=c.get("form", ""),
        reason=c.get("reason", ""),
        reason_label=c.get("reason_label", ""),
        reason_help=c.get("reason_help", ""),
        group=c.get("group", ""),
        heading=c.get("heading", ""),
        note_template=c.get("note_template", ""),
        danger=c.get("danger", False),
        confirm=c.get("confirm", ""),
        success=c.get("success", ""),
        intro=c.get("intro", ""),
        order=c.get("order", order),
        transition=name,
    )


def model_actions(model: type) -> dict[str, Action]:
    """Every action of `model` a screen can run, by slug, whatever the state or user."""
    actions = {}
    for order, ((m, name), run) in enumerate(_SERVICES.items()):
        if m is model:
            a = _transition_action(model, name, run, order)
            actions[a.slug] = a
    for a in _EXTRA.get(model, []):
        actions[a.slug] = a
    return actions


def available_actions(obj, user, *, exclude=()) -> list[Action]:
    """What `user` may do with `obj` now: the transitions its state allows (conditions
    met) whose permission the user holds, and the extra actions that apply, in screen
    order; actions whose slug is in `exclude` are not even asked (no permission query).
    No screen restates in which states an action exists."""
    return sorted(
        (
            a
            for a in model_actions(type(obj)).values()
            if a.slug not in exclude and a.applies(obj) and a.permitted(obj, user)
        ),
        key=lambda a: a.order,
    )


class WorkflowModel(ConcurrentTransitionMixin, models.Model):
    """Base for models with a protected FSM status: optimistic locking on the status, and
    full_clean() that leaves the status alone (only transitions may set it)."""

    class Meta:
        abstract = True

    def clean_fields(self, exclude=None):
        fsm = {f.name for f in self._meta.concrete_fields if isinstance(f, FSMFieldMixin)}
        super().clean_fields(exclude=set(exclude or ()) | fsm)
