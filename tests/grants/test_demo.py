"""The grants demo (grants.demo, seed_demo's step after incubation): a call at each level in
each stage, with the needs it answered and proposals named in the seeds' style, walked
through the real services; and a second seed_demo that changes nothing."""

import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_fsm_log.models import StateLog

from core.models import Notification
from grants.models import Call, CallLevel, Need, NeedStatus, Proposal, ProposalStatus

P = ProposalStatus
pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = io.StringIO()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    models = list(apps.get_app_config("grants").get_models()) + [StateLog, Notification]
    return {m._meta.label: m.objects.count() for m in models} | {
        "pages": apps.get_model("wagtailcore", "Page").objects.count()
    }


def test_calls_in_each_stage_with_needs_and_named_proposals_once():
    text = _seed()
    first = _counts()
    year = timezone.localdate().year

    city = Call.objects.get(title=f"鄂州市{year}年公益创投项目征集")
    street = Call.objects.get(title=f"凤凰街道{year}年“微公益”创投项目征集")
    community = Call.objects.get(title=f"澜湖社区{year}年社区微创投项目征集")
    old = Call.objects.filter(title__startswith="鄂州市", status="finished").get()
    assert (city.level, city.status, city.accepts_applications) == (CallLevel.CITY, "open", True)
    assert (street.level, street.status, street.region.name) == (CallLevel.STREET, "closed", "凤凰街道")
    assert (community.level, community.status, community.region.name) == (CallLevel.COMMUNITY, "needs", "澜湖社区")
    assert old.year < year and old.implement_until < timezone.localdate()
    assert community.next_round == street and street.next_round == city  # 三级联动
    for call in (city, street, community, old):
        assert call.page.live, call  # published on the site, with its announcement
        assert StateLog.objects.for_(call).filter(transition="create").exists()

    # 民呼我应: accepted needs published with their call, duplicates merged, one turned down
    accepted = set(Need.objects.filter(call=city, status=NeedStatus.ACCEPTED).values_list("title", flat=True))
    assert {"独居老人助餐", "放学后“四点半课堂”", "新居民融入"} <= accepted
    assert Need.objects.filter(call=city, status=NeedStatus.MERGED, merged_into__title="独居老人助餐").exists()
    assert Need.objects.get(call=city, status=NeedStatus.REJECTED).status_reason
    assert Need.objects.filter(call=community, status=NeedStatus.SUBMITTED).count() == 2  # waiting for moderation

    titles = dict(Proposal.objects.values_list("title", "status"))
    assert titles["老宝贝·长者助餐陪伴计划"] == P.SUBMITTED and titles["海马爸比·亲子成长营"] == P.SUBMITTED
    draft = Proposal.objects.get(title="小候鸟·留守儿童四点半课堂")
    assert (draft.call, draft.status, draft.created_by.username) == (city, P.DRAFT, "shenbao")
    returned = Proposal.objects.get(call=street, status=P.RETURNED)
    assert returned.status_reason and returned.correction_deadline > timezone.localdate()
    ineligible = Proposal.objects.get(call=street, status=P.INELIGIBLE)
    assert ineligible.status_reason
    corrected = Proposal.objects.get(title="夕阳红·空巢老人探访计划")
    assert corrected.status == P.SUBMITTED and corrected.versions.count() == 2
    assert set(Proposal.objects.filter(call=old).values_list("status", flat=True)) == {P.ELIGIBLE, P.INELIGIBLE}
    # through the services: numbers, versions, cited needs and every step in the history
    for p in Proposal.objects.exclude(status=P.DRAFT).filter(call__in=[city, street, old]):
        if p.submitted_at:
            assert p.number.startswith(f"GY{p.call.year}-") and p.versions.exists(), p
        assert StateLog.objects.for_(p).order_by("timestamp", "pk").last().state == p.status, p
        assert p.submitted_at is None or p.submitted_at <= timezone.now()
    assert Proposal.objects.filter(call=city, cited_needs__title="独居老人助餐").exists()

    # the logins worth trying are printed
    assert "shenbao" in text and "退回修改：" in text and "资格审查：凤凰街道" in text
    assert "项目征集 4 个" in text

    _seed()
    assert _counts() == first
