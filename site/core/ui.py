"""Turning service errors into what a user reads, the same way on every screen."""

from django.core.exceptions import ValidationError


def error_text(exc) -> str:
    """The Chinese message of a ValidationError, WorkflowError or PermissionDenied."""
    if isinstance(exc, ValidationError):
        return "；".join(exc.messages)
    return getattr(exc, "message", str(exc))


def apply_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError onto the form's fields (or the form), keeping input."""
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


def form_errors_text(form) -> str:
    """A bound form's errors as one Chinese sentence, for a flash message."""
    parts = [str(e) for e in form.non_field_errors()]
    parts += [
        f"{form.fields[name].label}：{'；'.join(errs)}" for name, errs in form.errors.items() if name != "__all__"
    ]
    return "请检查填写的内容。" + "；".join(parts)
