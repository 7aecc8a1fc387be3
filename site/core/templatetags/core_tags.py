from django import template
from django_fsm import FSMFieldMixin

from core.selectors import history_for
from core.workflow import CREATED

register = template.Library()


@register.filter
def yuan(value) -> str:
    """Decimal money as Chinese readers expect it: ¥12,345.00."""
    if value in (None, ""):
        return "—"
    return f"¥{value:,.2f}"


@register.inclusion_tag("core/history.html")
def status_history(obj, field: str = "", heading: bool = True):
    """An object's audit trail (who, when, from, to, why) with status labels, one query.
    `field` defaults to the object's FSM field; its creation row says what was created.
    heading=False inside a panel that already carries the title."""
    if not field:
        field = next(f.name for f in obj._meta.concrete_fields if isinstance(f, FSMFieldMixin))
    labels = dict(obj._meta.get_field(field).flatchoices)
    rows = [
        {
            "when": log.timestamp,
            "by": log.by,
            "created": log.transition == CREATED,
            "source": labels.get(log.source_state, log.source_state or "—"),
            "target": labels.get(log.state, log.state),
            "reason": log.description or "",
        }
        for log in history_for(obj)
    ]
    return {"rows": rows, "heading": heading}
