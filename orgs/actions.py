"""Links other apps offer on an organisation's page (/me/orgs/<pk>/), so orgs need not know
them: incubator adds 申请入驻孵化基地, grants will add 项目申报. An app registers

    @hooks.register("register_organisation_action", order=…)
    def apply_for_incubation(request, org, role) -> OrganisationAction | None: ...

where `role` is the user's membership role in `org`; returning None offers nothing."""

from dataclasses import dataclass

from wagtail import hooks

ORGANISATION_ACTIONS_HOOK = "register_organisation_action"


@dataclass(frozen=True)
class OrganisationAction:
    label: str
    url: str


def organisation_actions(request, org, role) -> list[OrganisationAction]:
    actions = (fn(request, org, role) for fn in hooks.get_hooks(ORGANISATION_ACTIONS_HOOK))
    return [action for action in actions if action is not None]
