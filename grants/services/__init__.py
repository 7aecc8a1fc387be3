"""Every action that changes a grant's state, one module per stage. Importing this package
registers the actions the staff screens offer (core.workflow.action_service)."""

from . import checks, proposals  # noqa: F401
from . import linkage, needs  # noqa: F401  (需求征集, 三级联动)
from . import calls  # noqa: F401
