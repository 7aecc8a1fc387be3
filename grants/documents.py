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


def lazy(path: str) -> Callable:
    """The function at "module.name", imported when first called: the PDF modules load
    WeasyPrint, which the commands that only list kinds should not pay for."""
    module, name = path.rsplit(".", 1)

    def call(*args, **kwargs):
        from importlib import import_module

        return getattr(import_module(module), name)(*args, **kwargs)

    call.__name__ = name
    return call


def register_kind(kind: DocumentKind) -> DocumentKind:
    KINDS[kind.name] = kind
    return kind


# ---- grants -------------------------------------------------------------------------------------


def _agreements():
    from .models import Agreement

    return Agreement.objects.select_related(
        "proposal__call__region", "proposal__organisation", "proposal__category", "org_signed_by", "funder_signed_by"
    ).order_by("proposal__call_id", "number")


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


register_kind(
    DocumentKind(
        name="agreement",
        label="项目协议书",
        objects=_agreements,
        render=lazy("grants.pdf_agreement.agreement_pdf"),
        filename=lazy("grants.pdf_agreement.agreement_filename"),
        in_call=lambda qs, call_id: qs.filter(proposal__call_id=call_id),
    )
)
register_kind(
    DocumentKind(
        name="proposal",
        label="项目申报书",
        objects=_proposals,
        render=lazy("grants.pdf.proposal_pdf"),
        filename=lazy("grants.pdf.pdf_filename"),
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


register_kind(
    DocumentKind(
        name="evaluation",
        label="项目评估报告",
        objects=_evaluations,
        render=lazy("grants.pdf_evaluation.evaluation_pdf"),
        filename=lazy("grants.pdf_evaluation.evaluation_filename"),
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


register_kind(
    DocumentKind(
        name="residence_agreement",
        label="孵化基地入驻协议",
        objects=_residences,
        render=lazy("incubator.pdf.agreement_pdf"),
        filename=lambda i: f"入驻协议-{i.agreement_no}-{i.organisation.name}.pdf",
    )
)
register_kind(
    DocumentKind(
        name="certificate",
        label="出壳证书",
        objects=_certificates,
        render=lazy("incubator.pdf.certificate_pdf"),
        filename=lambda i: f"出壳证书-{i.certificate_no}-{i.organisation.name}.pdf",
    )
)
