"""The grant models, one module per stage: calls, needs, proposals (later: review, funding,
evaluation). Import them from here: `from grants.models import Call, Proposal`."""

from .calls import (  # noqa: F401
    DEFAULT_CATEGORY_CODES,
    LEVEL_REGIONS,
    MANAGE_PERMISSION,
    TIMELINE,
    TRANCHE_GATES,
    Aggregation,
    Call,
    CallLevel,
    CallStatus,
    rubric_problems,
    tranche_problems,
)
from .needs import MODERATE_PERMISSION, Need, NeedStatus, SubmitterKind  # noqa: F401
from .proposals import (  # noqa: F401
    CHECK_PERMISSION,
    COUNTED_STATES,
    REVIEW_STATES,
    KPI,
    Activity,
    AttachmentKind,
    BudgetCategory,
    BudgetLine,
    FundingSource,
    LineNature,
    Proposal,
    ProposalAttachment,
    ProposalStatus,
    ProposalVersion,
    Recommendation,
    RecommendationState,
    TeamMember,
)
from .publicity import Objection, ObjectionStatus, Publicity, PublicityKind  # noqa: F401, E402
from .review import (  # noqa: F401, E402
    AFFILIATION_KINDS,
    OPEN_STATES,
    REVIEW_PERMISSION,
    Affiliation,
    Assignment,
    AssignmentStatus,
    ConflictKind,
    ExpertProfile,
    PanelDraw,
    ReviewRound,
    RoundStatus,
    Stage,
)
