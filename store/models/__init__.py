"""The schema. History is append-only; only status columns change, through transitions.

Changing a model means adding an alembic migration (store/migrations/versions/). One module
per area; every name is importable from `store.models` as before.
"""

from store.models.accounts import (
    ApiToken,
    DashboardSession,
    SignInAttempt,
    User,
)
from store.models.alerts import (
    OPEN_ALERT,
    Activation,
    ActivationKey,
    Alert,
    AlertEvent,
    ConfigVersion,
    Evaluation,
)
from store.models.base import NAMING, Base
from store.models.feeds import (
    FeedRun,
    FeedStatus,
    ForecastRun,
)
from store.models.grievances import (
    GRIEVANCE_CATEGORIES,
    GRIEVANCE_CHANNELS,
    GRIEVANCE_STATUSES,
    Grievance,
    GrievanceEvent,
)
from store.models.lists import (
    AllowanceLine,
    AllowanceList,
    AllowancePayee,
    ApprovalPolicy,
    Decision,
    ListRegistryPin,
    PaymentSnapshot,
)
from store.models.operations import (
    OUTBOX_STATUSES,
    AuditEntry,
    OutboxMessage,
    SchedulerHeartbeat,
)
from store.models.payments import (
    PAYMENT_STATUSES,
    PaymentImport,
    PaymentResult,
)
from store.models.registry import (
    Beneficiary,
    BeneficiaryHistory,
    RegistryEdits,
    RegistryImport,
    RegistryQuarantine,
    UnionExposure,
)

__all__ = [
    "GRIEVANCE_CATEGORIES",
    "GRIEVANCE_CHANNELS",
    "GRIEVANCE_STATUSES",
    "NAMING",
    "OPEN_ALERT",
    "OUTBOX_STATUSES",
    "PAYMENT_STATUSES",
    "Activation",
    "ActivationKey",
    "Alert",
    "AlertEvent",
    "AllowanceLine",
    "AllowanceList",
    "AllowancePayee",
    "ApiToken",
    "ApprovalPolicy",
    "AuditEntry",
    "Base",
    "Beneficiary",
    "BeneficiaryHistory",
    "ConfigVersion",
    "DashboardSession",
    "Decision",
    "Evaluation",
    "FeedRun",
    "FeedStatus",
    "ForecastRun",
    "Grievance",
    "GrievanceEvent",
    "ListRegistryPin",
    "OutboxMessage",
    "PaymentImport",
    "PaymentResult",
    "PaymentSnapshot",
    "RegistryEdits",
    "RegistryImport",
    "RegistryQuarantine",
    "SchedulerHeartbeat",
    "SignInAttempt",
    "UnionExposure",
    "User",
]
