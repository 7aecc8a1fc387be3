"""Sections later stages add to a proposal's two pages: the staff page
(grants/staff/proposals.py, `PAGE_PANELS`) and the applicant's page
(grants/views/proposals.py, `PORTAL_PANELS`). A stage registers a `PagePanel` with
`register_panel(panel, PAGE_PANELS)` from its own module, so the pages list what applies
without knowing each stage."""

from dataclasses import dataclass


@dataclass
class PagePanel:
    """`context(proposal, user, bound)` returns the template's context, or None when the
    panel does not apply (it should then cost no query); `bound` holds forms posted back
    with errors, by the panel's key. The template is included inside an element whose id
    is the key (an anchor: #agreement, #tranches …)."""

    key: str
    template: str
    context: object  # Callable[[Proposal, User, dict | None], dict | None]
    order: int = 100


PAGE_PANELS: list[PagePanel] = []
PORTAL_PANELS: list[PagePanel] = []


def register_panel(panel: PagePanel, registry: list) -> PagePanel:
    registry[:] = sorted([*(p for p in registry if p.key != panel.key), panel], key=lambda p: p.order)
    return panel


def panels_context(registry, proposal, user, bound=None) -> list[dict]:
    """The panels that apply to `proposal` now, each {"key", "template", **its context}."""
    shown = []
    for panel in registry:
        ctx = panel.context(proposal, user, (bound or {}).get(panel.key))
        if ctx is not None:
            shown.append({"key": panel.key, "template": panel.template, **ctx})
    return shown
