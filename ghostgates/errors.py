"""The suite's own errors: each means "could not find out", never pass or fail.

    GateError
    ├── ConfigError        a phase file, world or environment variable is unusable
    ├── ServiceError       a service answered, but not with what we asked for
    │   ├── Unauthorised   401/403: the token is missing, wrong or lacks rights
    │   ├── NotFound       404 on something the suite must read
    │   └── Malformed      a body that is not the JSON the API promises (cut short, wrong shape)
    └── Unreachable        connection refused, timeout, 5xx after retries

Messages name the file and key, or the URL, and never carry a token. A service's refusal (401, 403,
404, any other status that is not retried) becomes its error in one place, `refusal`, for Gitea,
Drone and the Docker engine alike.
"""

from __future__ import annotations


class GateError(Exception):
    """The suite could not find out."""


class ConfigError(GateError):
    pass


class ServiceError(GateError):
    def __init__(self, message: str, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class Unauthorised(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class Malformed(ServiceError):
    pass


class Unreachable(ServiceError):
    pass


# The statuses whose answer means something of its own; any other refusal is a plain ServiceError.
REFUSALS: dict[int, type[ServiceError]] = {401: Unauthorised, 403: Unauthorised, 404: NotFound}


def refusal(status: int, asked: str, url: str, *, unauthorised: str = "", said: str = "") -> ServiceError:
    """The error of an answer `status` to `asked` ("<service>: GET <url>"): "<asked> answered <status>",
    then `unauthorised` on a 401/403 (what to check), then `said` (the service's own reason, if any)."""
    kind = REFUSALS.get(status, ServiceError)
    hint = unauthorised if kind is Unauthorised else ""
    return kind(f"{asked} answered {status}{hint}{said}", url=url, status=status)
