"""finsent's exceptions.

FinsentError
 ├── ConfigError          a setting or config file is wrong (names the line when there is one)
 ├── ServiceError         an embedded service (broker, database) did not start or stop
 │    └── ServiceTimeout  ... within its readiness timeout
 ├── IngestError          a source could not be read or parsed
 └── ModelError           the classifier artifact is missing, corrupt or incompatible
"""

__all__ = [
    "ConfigError",
    "FinsentError",
    "IngestError",
    "ModelError",
    "ServiceError",
    "ServiceTimeout",
]


class FinsentError(Exception):
    """Root of every error finsent raises on purpose."""


class ConfigError(FinsentError):
    pass


class ServiceError(FinsentError):
    pass


class ServiceTimeout(ServiceError):
    pass


class IngestError(FinsentError):
    pass


class ModelError(FinsentError):
    pass
