"""The 项目评估 section of the applicant's project page (PORTAL_PANELS): each completed
mid-term and final evaluation with its total, result or grade and the evaluator's
comment; while suspended, the rectification deadline; once terminated or closed, the
money (clawback owed and repaid, funds returned). Nothing of an evaluation still being
scored is shown."""

from ..models import Evaluation, EvaluationStatus, ProposalStatus
from ..panels import PORTAL_PANELS, PagePanel, register_panel

P = ProposalStatus
SHOWN_STATES = (P.IN_PROGRESS, P.SUSPENDED, P.MID_TERM_PASSED, P.FINAL_EVALUATED, P.CLOSED, P.TERMINATED)


def evaluations_panel(proposal, user, bound):
    if proposal.status not in SHOWN_STATES:
        return None
    evaluations = list(
        Evaluation.objects.filter(proposal=proposal, status=EvaluationStatus.SUBMITTED).order_by("submitted_at", "pk")
    )
    if not evaluations and proposal.status == P.IN_PROGRESS:
        return None
    rectify = next((e.rectify_until for e in reversed(evaluations) if e.rectify_until), None)
    return {
        "evaluations": evaluations,
        "rectify_until": rectify if proposal.status == P.SUSPENDED else None,
        "owed": (proposal.clawback_amount or 0) - proposal.clawback_repaid if proposal.clawback_amount else None,
    }


register_panel(
    PagePanel(key="evaluations", template="grants/portal/evaluations_panel.html", context=evaluations_panel, order=50),
    PORTAL_PANELS,
)
