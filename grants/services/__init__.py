"""Every action that changes a grant's state, one module per stage. Importing this package
registers the actions the staff screens offer (core.workflow.action_service)."""

from . import (  # noqa: F401  # noqa: F401  (需求征集, 三级联动)
    calls,  # noqa: F401
    checks,
    linkage,
    needs,
    proposals,
    publicity,
)
