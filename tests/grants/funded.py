"""Steps of a funded project through the real services, for the tests of its public pages
(tests/cms/test_projects.py, tests/grants/test_public_selectors.py): a progress report
submitted (public text, photos public or not, KPI reached), an evaluation scored and
submitted, a tranche paid, a community need raised (and accepted)."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from grants.models import Evaluation, FundingSource, ProgressReport, Proposal, Tranche
from grants.services import evaluations, needs, reports
from grants.services.tranches import tranche_release
from tests.factories import PNG_BYTES
from tests.grants.factories import leader_of


def fresh(pk) -> Proposal:
    return Proposal.objects.select_related("call__region", "organisation").get(pk=pk)


def evaluate(pk, kind, total, by, comment="活动按计划开展，资料齐全。", **submit) -> Evaluation:
    ev = evaluations.evaluation_start(proposal=fresh(pk), kind=kind, by=by)
    ev = Evaluation.objects.select_related("proposal__call__region", "proposal__organisation").get(pk=ev.pk)
    return evaluations.evaluation_submit(
        evaluation=ev, by=by, points=evaluations.points_for_total(ev.proposal.call, total), comment=comment, **submit
    )


def pay(pk, gate, finance) -> Tranche:
    t = Tranche.objects.get(proposal_id=pk, gate=gate)
    return tranche_release(tranche=t, by=finance, paid_on=timezone.localdate(), voucher_no=f"记-{t.pk:05d}-9")


def report(
    pk,
    *,
    period="第一阶段",
    public_text="",
    photos=(),
    spent="0",
    kpi="60",
    activities=8,
    participants=120,
    narrative="走访了独居老人王秀英家，签到表已归档。",
) -> ProgressReport:
    """A report of the last 60 days submitted by the organisation's 负责人; `photos` are
    (caption, public) pairs."""
    p = fresh(pk)
    leader = leader_of(p)
    line = p.budget_lines.filter(source=FundingSource.GRANT).order_by("position", "pk").first()
    today = timezone.localdate()
    r = reports.report_start(
        proposal=p, by=leader, period=period, period_start=today - datetime.timedelta(days=60), period_end=today
    )
    reports.report_save(
        report=ProgressReport.objects.get(pk=r.pk),
        by=leader,
        fields={
            "narrative": narrative,
            "public_text": public_text,
            "activities_held": activities,
            "participants": participants,
            "beneficiaries": 40,
        },
        spending={str(line.pk): spent},
        kpi_progress={str(p.kpis.get().pk): kpi},
        new_photos=[
            {"upload": SimpleUploadedFile(f"p{i}.png", PNG_BYTES), "caption": caption, "public": public}
            for i, (caption, public) in enumerate(photos)
        ],
    )
    reports.report_submit(report=ProgressReport.objects.get(pk=r.pk), by=leader)
    return ProgressReport.objects.get(pk=r.pk)


def closed_with_grade(pk, manager, finance, *, final=93, comment="项目目标全部达成，形成了可复制的服务模式。") -> None:
    """Mid-term passed (86), the mid-term and final tranches paid, the final evaluation
    scored `final`, closed with nothing returned (a report spending half is sent first)."""
    report(pk, spent="30000", kpi="120")
    evaluate(pk, "mid_term", 86, manager)
    pay(pk, "mid_term", finance)
    evaluate(pk, "final", final, manager, comment)
    pay(pk, "final", finance)
    evaluations.project_close(proposal=fresh(pk), by=manager, returned_amount="0")


def need(region, title, *, submitter, phone, accepted_by=None, category="elderly", people=20):
    """A need raised by a resident of `region` (a community), accepted by `accepted_by`
    (a moderator) in `category` when given, else left waiting for moderation."""
    from orgs.models import ServiceArea

    raised = needs.need_submit(
        region=region,
        title=title,
        description=f"{title}，希望社区帮忙解决。",
        affected="社区居民",
        people_count=people,
        submitter_kind="resident",
        submitter_name=submitter,
        phone=phone,
    )
    if accepted_by is not None:
        needs.need_accept(need=raised, by=accepted_by, category=ServiceArea.objects.get(code=category))
    return raised
