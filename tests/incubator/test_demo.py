"""The demo incubation (incubator.demo.seed_incubation): three levels of bases for 鄂州市,
about forty incubations in every state walked through the real services, and a second run
that changes nothing."""

import pytest
from django.test import override_settings
from django.utils import timezone
from django_fsm_log.models import StateLog

from core.models import Notification
from incubator.demo import CITY_BASE, seed_incubation
from incubator.models import (
    RESIDENT_STATES,
    BaseLevel,
    CapacityAssessment,
    Incubation,
    IncubationBase,
    IncubationStatus,
    Promotion,
    ServiceLog,
)
from incubator.selectors import overdue_q

S = IncubationStatus


@pytest.fixture
def seeded(db):
    """The demo city, its staff and organisations, then the incubation demo."""
    from accounts.demo import seed_regions, seed_staff
    from orgs.demo import seed_organisations

    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        seed_regions()
        seed_staff()
        seed_organisations()
        return seed_incubation()


def _counts():
    return {
        model.__name__: model.objects.count()
        for model in (IncubationBase, Incubation, ServiceLog, CapacityAssessment, Promotion, StateLog, Notification)
    }


def test_three_levels_of_bases(seeded):
    city = IncubationBase.objects.get(name=CITY_BASE)
    assert city.level == BaseLevel.CITY and city.parent is None and city.region.code == "420700"
    streets = IncubationBase.objects.filter(level=BaseLevel.STREET)
    assert streets.count() == 13 and all(b.parent_id == city.pk for b in streets)
    assert IncubationBase.objects.filter(name="凤凰街道社会组织共享工作站", region__code="420704001").exists()
    studios = IncubationBase.objects.filter(level=BaseLevel.COMMUNITY).select_related("parent__region", "region")
    assert 12 <= studios.count() <= 18  # about half of the 27 communities
    assert all(s.parent.level == BaseLevel.STREET and s.parent.region.contains(s.region) for s in studios)


def test_incubations_in_every_state_with_their_history(seeded):
    assert 38 <= Incubation.objects.count() <= 55
    states = set(Incubation.objects.values_list("status", flat=True))
    assert states == set(S.values)
    assert Incubation.objects.filter(overdue_q(timezone.localdate())).count() >= 2  # 初审超期
    assert Incubation.objects.filter(status=S.GRADUATED, registered_during=True).exists()
    assert Incubation.objects.filter(organisation__org_type="preparing").exists()
    # walked through the services: every state change has its audit row, every resident an agreement
    for inc in Incubation.objects.exclude(status=S.APPLIED):
        assert StateLog.objects.for_(inc).exists(), inc
    assert not Incubation.objects.filter(starts_on__isnull=False, agreement_no="").exists()
    assert not Incubation.objects.filter(status=S.GRADUATED, certificate_no="").exists()
    # spread over the years, graduates assessed at admission and at graduation with a gain
    starts = Incubation.objects.filter(starts_on__isnull=False).values_list("starts_on", flat=True)
    assert len({d.year for d in starts}) >= 3
    for inc in Incubation.objects.filter(status=S.GRADUATED, promoted_from__isnull=True):
        totals = list(inc.assessments.order_by("assessed_on").values_list("total", flat=True))
        assert len(totals) >= 2 and totals[-1] > totals[0], inc
    assert ServiceLog.objects.count() >= 100
    assert Promotion.objects.filter(state="accepted").exists() and Promotion.objects.filter(state="pending").exists()
    # the bases' place counters agree with their residents
    for base in IncubationBase.objects.all():
        residents = Incubation.objects.filter(base=base, status__in=RESIDENT_STATES)
        assert base.desks_used == residents.filter(residence="desk").count(), base
        assert base.virtual_used == residents.filter(residence="virtual").count(), base


def test_a_second_run_changes_nothing(seeded):
    before = _counts()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        assert seed_incubation() == seeded
    assert _counts() == before
