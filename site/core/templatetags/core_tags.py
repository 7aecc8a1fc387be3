from django import template

from core.selectors import history_for

register = template.Library()


@register.filter
def yuan(value) -> str:
    """Decimal money as Chinese readers expect it: ¥12,345.00."""
    if value in (None, ""):
        return "—"
    return f"¥{value:,.2f}"


@register.inclusion_tag("core/history.html")
def status_history(obj, field: str = "status"):
    """An object's audit trail (who, when, from, to, why) with status labels, one query."""
    labels = dict(obj._meta.get_field(field).flatchoices)
    rows = [
        {
            "when": log.timestamp,
            "by": log.by,
            "source": labels.get(log.source_state, log.source_state or "—"),
            "target": labels.get(log.state, log.state),
            "reason": log.description or "",
        }
        for log in history_for(obj)
    ]
    return {"rows": rows}
