"""The system's printable documents, by kind, for batch printing
(`python manage.py render_pdf KIND --output-dir DIR [--id ID] [--call ID]`).

Each kind says which objects have the document, how to narrow them to one call (None when
the document belongs to no call), how to render one (bytes of a PDF made by core.pdf) and
its file name. Registered here: the grant documents (agreement, proposal, evaluation: the
submitted evaluations' reports, grants.pdf_evaluation) and the
incubator's (residence_agreement, certificate: grants may import incubator, not the other
way round, so grants registers them). Another module adds its kind with
`register_kind(DocumentKind(...))` at import (the evaluation report: from its own module,
imported at start-up)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet


@dataclass(frozen=True)
class DocumentKind:
    """One kind of document: `objects()` the rows that have it (a queryset), `in_call(qs,
    call_id)` those of one call (None: not a call's document), `render(obj)` its PDF,
    `filename(obj)` the file's name."""

    name: str
    label: str
    objects: Callable[[], QuerySet]
    render: Callable[[object], bytes]
    filename: Callable[[object], str]
    in_call: Callable[[QuerySet, int], QuerySet] | None = None


KINDS: dict[str, DocumentKind] = {}


def register_kind(kind: DocumentKind) -> DocumentKind:
    KINDS[kind.name] = kind
    return kind


# ---- grants -------------------------------------------------------------------------------------


def _agreements():
    from .models import Agreement

    return Agreement.objects.select_related(
        "proposal__call__region", "proposal__organisation", "proposal__category", "org_signed_by", "funder_signed_by"
    ).order_by("proposal__call_id", "number")


def _agreement_pdf(agreement) -> bytes:
    from .pdf_agreement import agreement_pdf

    return agreement_pdf(agreement)


def _agreement_filename(agreement) -> str:
    from .pdf_agreement import agreement_filename

    return agreement_filename(agreement)


def _proposals():
    from django.db.models import Exists, OuterRef, Prefetch

    from .models import Proposal, ProposalVersion

    submitted = ProposalVersion.objects.filter(proposal=OuterRef("pk"))
    return (
        Proposal.objects.filter(Exists(submitted))
        .select_related("call__region", "organisation", "category")
        .prefetch_related(Prefetch("versions", queryset=ProposalVersion.objects.order_by("number")))
        .order_by("call_id", "number", "pk")
    )


def _proposal_pdf(proposal) -> bytes:
    from .pdf import proposal_pdf

    return proposal_pdf(proposal)


def _proposal_filename(proposal) -> str:
    from .pdf import pdf_filename

    return pdf_filename(proposal)


register_kind(
    DocumentKind(
        name="agreement",
        label="项目协议书",
        objects=_agreements,
        render=_agreement_pdf,
        filename=_agreement_filename,
        in_call=lambda qs, call_id: qs.filter(proposal__call_id=call_id),
    )
)
register_kind(
    DocumentKind(
        name="proposal",
        label="项目申报书",
        objects=_proposals,
        render=_proposal_pdf,
        filename=_proposal_filename,
        in_call=lambda qs, call_id: qs.filter(call_id=call_id),
    )
)


def _evaluations():
    from .models import Evaluation, EvaluationStatus

    return (
        Evaluation.objects.filter(status=EvaluationStatus.SUBMITTED)
        .select_related("proposal__call__region", "proposal__organisation", "proposal__category", "evaluator")
        .order_by("proposal__call_id", "proposal_id", "kind", "attempt")
    )


def _evaluation_pdf(evaluation) -> bytes:
    from .pdf_evaluation import evaluation_pdf

    return evaluation_pdf(evaluation)


def _evaluation_filename(evaluation) -> str:
    from .pdf_evaluation import evaluation_filename

    return evaluation_filename(evaluation)


register_kind(
    DocumentKind(
        name="evaluation",
        label="项目评估报告",
        objects=_evaluations,
        render=_evaluation_pdf,
        filename=_evaluation_filename,
        in_call=lambda qs, call_id: qs.filter(proposal__call_id=call_id),
    )
)


# ---- the incubator's ----------------------------------------------------------------------------


def _incubations():
    from incubator.models import Incubation

    return Incubation.objects.select_related("base__region", "base__operator_org", "organisation").order_by("pk")


def _residences():
    return _incubations().exclude(agreement_no="").filter(starts_on__isnull=False)


def _certificates():
    from incubator.models import IncubationStatus

    return _incubations().filter(status=IncubationStatus.GRADUATED).exclude(certificate_no="")


def _residence_pdf(incubation) -> bytes:
    from incubator.pdf import agreement_pdf

    return agreement_pdf(incubation)


def _certificate_pdf(incubation) -> bytes:
    from incubator.pdf import certificate_pdf

    return certificate_pdf(incubation)


register_kind(
    DocumentKind(
        name="residence_agreement",
        label="孵化基地入驻协议",
        objects=_residences,
        render=_residence_pdf,
        filename=lambda i: f"入驻协议-{i.agreement_no}-{i.organisation.name}.pdf",
    )
)
register_kind(
    DocumentKind(
        name="certificate",
        label="出壳证书",
        objects=_certificates,
        render=_certificate_pdf,
        filename=lambda i: f"出壳证书-{i.certificate_no}-{i.organisation.name}.pdf",
    )
)
