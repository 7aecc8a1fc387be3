"""Every action that changes a grant's state, one module per stage. Importing this package
registers the actions the staff screens offer (core.workflow.action_service)."""

from . import (  # noqa: F401  # noqa: F401  (需求征集, 三级联动)  # noqa: E402, F401  (中期/末期评估, 结项, 追回; 进度报告)
    agreements,  # noqa: E402, F401  (项目协议)
    calls,  # noqa: F401
    checks,
    evaluations,
    linkage,
    needs,
    proposals,
    publicity,
    reports,
    tranches,  # noqa: E402, F401  (拨付)
)
from .tranches import tranche_release  # noqa: E402, F401  (the name the issue fixes)
