"""The demo data (`manage.py seed_demo`), composed of each app's step. An app contributes
one in its demo.py:

    @hooks.register("register_demo_step", order=30)
    def demo_step() -> dict:
        ...
        return {"summary": "社会组织 120 家", "accounts": [(username, role label, region), …]}

Steps run in `order` (accounts 10, cms 20, orgs 30, incubator 40; grants after them); each
must be idempotent, so a second run changes nothing."""

from django.test import override_settings
from django.utils.module_loading import autodiscover_modules
from wagtail import hooks

DEMO_STEP_HOOK = "register_demo_step"


def demo_steps() -> list:
    autodiscover_modules("demo")  # importing each app's demo.py registers its step
    return hooks.get_hooks(DEMO_STEP_HOOK)


def seed_demo() -> list[dict]:
    """Run every step; returns their results in order."""
    # Demo notifications land in the inboxes; their e-mails are not sent or printed.
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        return [step() or {} for step in demo_steps()]
