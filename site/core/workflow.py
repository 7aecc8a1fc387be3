"""One way to run a django-fsm transition for every model in the project.

Services call `run_transition` after they have checked permission. It runs the transition
and the save in one database transaction, records who/why in the audit log
(django-fsm-log's StateLog), and turns django-fsm's exceptions into a Chinese message.
Models use `FSMField(protected=True)` and `ConcurrentTransitionMixin`, so when two staff
act on the same object at once the second save fails and nothing of it is kept."""

from django.db import models, transaction
from django_fsm import ConcurrentTransition, ConcurrentTransitionMixin, FSMFieldMixin, TransitionNotAllowed, can_proceed
from django_fsm_log.helpers import FSMLogDescriptor

from .errors import UserError


class WorkflowError(UserError):
    """A status change that may not happen; the message is shown to the user as is."""


def transition_label(instance, name: str) -> str:
    method = getattr(type(instance), name)
    meta = getattr(method, "_django_fsm", None)
    if meta:
        for t in meta.transitions.values():
            if t.custom.get("label"):
                return t.custom["label"]
    return name


def run_transition(instance, name: str, *, by, reason: str = "", also_save: tuple[str, ...] = (), **kwargs):
    """Run `instance.<name>(**kwargs)` and save, atomically, logging `by` and `reason`.

    Only the status (and auto_now timestamps, and `also_save` fields a transition method
    sets) is written, so a copy of the row loaded earlier never overwrites columns that
    other actions changed meanwhile.

    Raises WorkflowError when the transition is not allowed from the current status or
    its conditions fail, or when someone else changed the status first."""
    method = getattr(instance, name)
    label = transition_label(instance, name)
    if not can_proceed(method):
        raise WorkflowError(f"当前状态为“{status_display(instance)}”，不能执行“{label}”。")
    try:
        with transaction.atomic():
            with FSMLogDescriptor(instance, "by", by), FSMLogDescriptor(instance, "description", reason or None):
                result = method(**kwargs)
            instance.save(update_fields=[*_status_fields(instance), *also_save])
    except ConcurrentTransition:
        # protected FSM fields cannot be refreshed in place: read the winner's status anew
        current = type(instance)._default_manager.get(pk=instance.pk)
        raise WorkflowError(
            f"该记录刚被其他人处理，当前状态为“{status_display(current)}”。请刷新后查看，无需重复操作。"
        ) from None
    except TransitionNotAllowed:
        raise WorkflowError(f"当前状态为“{status_display(instance)}”，不能执行“{label}”。") from None
    return result


def _status_fields(instance) -> list[str]:
    return [
        f.name for f in instance._meta.concrete_fields if isinstance(f, FSMFieldMixin) or getattr(f, "auto_now", False)
    ]


def status_display(instance, field: str = "status") -> str:
    getter = getattr(instance, f"get_{field}_display", None)
    return str(getter()) if getter else str(getattr(instance, field, ""))


class WorkflowModel(ConcurrentTransitionMixin, models.Model):
    """Base for models with a protected FSM status: optimistic locking on the status, and
    full_clean() that leaves the status alone (only transitions may set it)."""

    class Meta:
        abstract = True

    def clean_fields(self, exclude=None):
        fsm = {f.name for f in self._meta.concrete_fields if isinstance(f, FSMFieldMixin)}
        super().clean_fields(exclude=set(exclude or ()) | fsm)


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
