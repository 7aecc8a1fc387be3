"""Roles are Django groups with permissions. This module is the one place that says
which role may do what; `sync_roles` (run after every migrate and by seed_demo) makes the
database match it. Permissions of apps not yet installed are skipped, so later apps only
add lines here."""

from django.db import models


class Role(models.TextChoices):
    APPLICANT = "applicant", "申报单位"
    BASE_OPERATOR = "base_operator", "孵化基地运营"
    CALL_MANAGER = "call_manager", "业务主管（民政）"
    REVIEWER = "reviewer", "评审专家"
    FINANCE = "finance", "财务"
    AUDITOR = "auditor", "审计（只读）"


# Group names are the Chinese labels: that is what staff see in the Wagtail admin.
GROUP_NAMES = {role.value: role.label for role in Role}

ADMIN_ACCESS = "wagtailadmin.access_admin"
_ORG_VIEW = ["orgs.view_organisation", "orgs.view_organisationdocument", "orgs.view_annualinspection"]
_ORG_VERIFY = [
    "orgs.verify_organisation",
    "orgs.change_organisation",
    "orgs.add_organisation",
    "orgs.import_organisation",
    "orgs.export_organisation",
    "orgs.add_annualinspection",
    "orgs.change_annualinspection",
    "orgs.add_listentry",
    "orgs.change_listentry",
]

_BASE_VIEW = ["incubator.view_incubationbase", "incubator.view_incubation", "incubator.view_promotion"]
_BASE_OPERATE = [
    "incubator.operate_base",
    "incubator.change_incubationbase",
    "incubator.add_servicelog",
    "incubator.add_capacityassessment",
]

_GRANTS_VIEW = [
    "grants.view_call",
    "grants.view_proposal",
    "grants.view_need",
    "grants.view_recommendation",
]
_GRANTS_MANAGE = [
    "grants.manage_call",
    "grants.add_call",
    "grants.change_call",
    "grants.check_eligibility",
    "grants.moderate_need",
    "grants.add_recommendation",
    "grants.manage_experts",
    "grants.evaluate_project",
    "grants.view_expertprofile",
    "grants.add_expertprofile",
    "grants.change_expertprofile",
    "grants.view_tranche",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    Role.APPLICANT: [],
    # a base operator sees the calls and proposals of their area and moderates its needs
    Role.BASE_OPERATOR: [
        ADMIN_ACCESS,
        *_ORG_VIEW,
        *_BASE_VIEW,
        *_BASE_OPERATE,
        *_GRANTS_VIEW,
        "grants.moderate_need",
    ],
    Role.CALL_MANAGER: [
        ADMIN_ACCESS,
        *_ORG_VIEW,
        *_ORG_VERIFY,
        *_BASE_VIEW,
        "incubator.add_incubationbase",
        "incubator.change_incubationbase",
        *_GRANTS_VIEW,
        *_GRANTS_MANAGE,
    ],
    # a reviewer sees only what is assigned to them (grants.selectors.review), never a list of proposals
    Role.REVIEWER: [ADMIN_ACCESS, "grants.review_proposal"],
    Role.FINANCE: [
        ADMIN_ACCESS,
        *_ORG_VIEW,
        "grants.view_call",
        "grants.view_proposal",
        "grants.view_tranche",
        "grants.release_tranche",
    ],
    # the money is not a base operator's business: the finance screens need grants.view_tranche
    Role.AUDITOR: [
        ADMIN_ACCESS,
        *_ORG_VIEW,
        *_BASE_VIEW,
        *_GRANTS_VIEW,
        "grants.view_tranche",
        "orgs.export_organisation",
    ],
}


def sync_roles() -> None:
    from django.contrib.auth.models import Group, Permission

    for role, perm_names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=GROUP_NAMES[role])
        wanted = []
        for name in perm_names:
            app_label, codename = name.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm:
                wanted.append(perm)
        group.permissions.set(wanted)


def sync_roles_after_migrate(sender, **kwargs):
    # Run once, for the last app with models, when every app's permissions exist.
    from django.apps import apps

    last = [c for c in apps.get_app_configs() if c.models_module is not None][-1]
    if sender is last:
        sync_roles()


def role_group(role: Role):
    from django.contrib.auth.models import Group

    return Group.objects.get_or_create(name=GROUP_NAMES[role])[0]


def user_roles(user) -> set[str]:
    """The role keys of a user, cached on the instance for the request."""
    if not getattr(user, "is_authenticated", False):
        return set()
    if not hasattr(user, "_role_cache"):
        by_name = {v: k for k, v in GROUP_NAMES.items()}
        user._role_cache = {by_name[n] for n in user.groups.values_list("name", flat=True) if n in by_name}
    return user._role_cache


def grant_role(user, role: Role) -> None:
    user.groups.add(role_group(role))
    user.__dict__.pop("_role_cache", None)
