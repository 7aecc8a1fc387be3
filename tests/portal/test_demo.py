"""`manage.py seed_demo` (portal.demo): every app's step in order on an empty database, and a
second run that changes nothing."""

import io

from django.apps import apps
from django.core.management import call_command
from wagtail import hooks

from portal.demo import DEMO_STEP_HOOK, demo_steps


def _counts() -> dict[str, int]:
    project = ("accounts", "core", "cms", "orgs", "incubator", "django_fsm_log", "wagtailcore")
    return {
        model._meta.label: model.objects.count()
        for label in project
        for model in apps.get_app_config(label).get_models()
    }


def test_the_steps_run_in_layer_order():
    modules = [step.__module__ for step in demo_steps()]
    assert modules[:4] == ["accounts.demo", "cms.demo", "orgs.demo", "incubator.demo"]


def test_seed_demo_builds_everything_once(db):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    first = _counts()
    call_command("seed_demo", stdout=io.StringIO())

    assert _counts() == first
    text = out.getvalue()
    assert "演示数据就绪" in text and "孵化基地" in text and "社会组织" in text
    for username in ("admin", "echeng_minzheng", "fenghuang_jidi", "shenji"):
        assert username in text
    assert first["orgs.Organisation"] > 0 and first["incubator.Incubation"] > 0 and first["cms.HomePage"] == 1


def test_a_later_app_adds_its_step(db):
    ran = []

    def step():
        ran.append("later")
        return {"summary": "征集 1 个"}

    with hooks.register_temporarily(DEMO_STEP_HOOK, step, order=999):
        steps = demo_steps()
        assert steps[-1] is step and steps[-1]().get("summary") == "征集 1 个"
    assert ran == ["later"]
