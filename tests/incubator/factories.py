"""Factories for incubation bases and incubations. `incubation_at` walks the real services,
so every incubation it returns has the audit rows, counters and dates a user's actions
would have left."""

import factory

from accounts.roles import Role
from incubator import services
from incubator.models import BaseLevel, Incubation, IncubationBase, IncubationStatus, Residence
from tests.factories import organisation_with_leader, region_tree, staff

S = IncubationStatus

# The path of services from 已申请 to each status.
_PATH = {
    S.APPLIED: [],
    S.SCREENED: ["screen"],
    S.REJECTED: ["reject"],
    S.ADMITTED: ["screen", "admit"],
    S.IN_INCUBATION: ["screen", "admit", "begin"],
    S.MID_REVIEW: ["screen", "admit", "begin", "mid"],
    S.EXTENDED: ["screen", "admit", "begin", "extend"],
    S.GRADUATED: ["screen", "admit", "begin", "assess", "graduate"],
    S.WITHDRAWN: ["screen", "admit", "begin", "withdraw"],
}


class IncubationBaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncubationBase

    name = factory.Sequence(lambda n: f"凤凰街道共享工作站{n}号")
    level = BaseLevel.STREET
    region = factory.LazyFunction(lambda: region_tree()["fenghuang"])
    address = "湖北省鄂州市凤凰街道滨湖路8号"
    operator_unit = "凤凰街道办事处"
    contact_name = "李站长"
    contact_phone = "0711-3200000"
    desks = 5
    virtual_places = 10


def base_operator(base: IncubationBase, **kwargs):
    """An operator whose region is the base's region."""
    return staff(Role.BASE_OPERATOR, base.region, **kwargs)


def incubation_at(
    base: IncubationBase,
    org=None,
    status: str = S.APPLIED,
    *,
    by=None,
    applicant=None,
    residence: str = Residence.DESK,
    **apply_kwargs,
) -> Incubation:
    """An incubation of `org` (a new organisation with a leader if None) at `base`, taken
    to `status` through the services by the operator `by` (a new one if None)."""
    if org is None:
        org, applicant = organisation_with_leader()
    elif applicant is None:
        applicant = org.memberships.select_related("user").first().user
    by = by or base_operator(base)
    inc = services.incubation_apply(
        base=base,
        organisation=org,
        by=applicant,
        plan=apply_kwargs.pop("plan", "为社区老人提供助餐和陪伴服务。"),
        requested_services=apply_kwargs.pop("requested_services", ["space", "training"]),
        wants_desk=residence == Residence.DESK,
        **apply_kwargs,
    )
    for step in _PATH[S(status)]:
        inc.refresh_from_db()
        if step == "screen":
            services.incubation_screen(incubation=inc, by=by, accept=True)
        elif step == "reject":
            services.incubation_screen(incubation=inc, by=by, accept=False, reason="服务方向与本基地不符。")
        elif step == "admit":
            desk = f"A-{inc.pk:03d}" if residence == Residence.DESK else ""
            services.incubation_admit(incubation=inc, by=by, residence=residence, desk_label=desk)
        elif step == "begin":
            services.incubation_begin(incubation=inc, by=by)
        elif step == "mid":
            services.incubation_mid_review_start(incubation=inc, by=by)
        elif step == "extend":
            inc.refresh_from_db()
            services.incubation_extend(
                incubation=inc, by=by, new_end=inc.ends_on.replace(year=inc.ends_on.year + 1), reason="项目尚在进行中。"
            )
        elif step == "assess":
            services.assessment_record(incubation=inc, by=by, stage="graduation", scores=dict.fromkeys(_DIMENSIONS, 80))
        elif step == "graduate":
            services.incubation_graduate(incubation=inc, by=by, registered=True, governance=True, project=True)
        elif step == "withdraw":
            services.incubation_withdraw(incubation=inc, by=by, reason="组织迁往外地。")
    inc.refresh_from_db()
    return inc


_DIMENSIONS = ("governance", "finance", "projects", "team", "resources")
