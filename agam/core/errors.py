"""One small exception hierarchy; the CLI maps it to exit codes, the dashboard to messages."""

from __future__ import annotations


class AgamError(Exception):
    """Base of every error Agam raises on purpose."""

    exit_code = 2


class ConfigError(AgamError):
    """config.toml or the environment is invalid; names the offending key."""

    exit_code = 3


class BoundaryError(AgamError):
    """A boundary file is unusable; names the file and the feature."""

    exit_code = 4


class FeedError(AgamError):
    """An upstream feed could not be fetched or parsed."""

    exit_code = 5


class RuleError(AgamError):
    """A rule set is invalid or cannot be evaluated."""

    exit_code = 6


class RegistryError(AgamError):
    """A beneficiary registry extract is invalid."""

    exit_code = 7


class PaymentFileError(AgamError):
    """A payment provider's return file cannot be read; names the file and the column."""

    exit_code = 7


class StoreError(AgamError):
    """The database refused an operation or is in an unexpected state."""

    exit_code = 8


class InvalidTransition(StoreError):
    """A status change that the state table does not allow."""


class PermissionDenied(StoreError):
    """The acting user's role or district does not allow this."""


class NotAuthenticated(AgamError):
    """No credentials, wrong ones, or a disabled account: nothing was done (the attempt is
    audited)."""

    exit_code = 9


class SchedulerDown(AgamError):
    """No scheduler is beating on this store: nothing is fetched or judged."""

    exit_code = 10


class NotFound(AgamError):
    """A requested object does not exist (exit 1, like `find` with no answer)."""

    exit_code = 1


class DataQualityWarning(UserWarning):
    """Data usable but degraded: shown to users, never silently dropped."""


class StaleForecast(DataQualityWarning):
    """The newest forecast is older than the feed's maximum age."""


class MissingStation(DataQualityWarning):
    """A configured station is absent from a forecast."""


class PartialEnsemble(DataQualityWarning):
    """Fewer ensemble members than expected."""
