"""The refusals of the lab side, each a core error with a stable machine-readable `code` for lab software.

    ForbiddenError (ReuniteError)       the acting lab may not do this: another lab's sample, a revoked key
    SampleCodeError (InputError)        a sample code with a wrong check character
    UnknownSampleError (NotFoundError)  no sample has this code
    ProfileRejectedError (InputError)   a profile cannot be stored as sent (unknown marker, bad allele, ...), or a
                                        walk-in's source, role, sex and case do not fit
    ProfileConflictError (ConflictError) the sample already has a different profile
    CustodyError (ConflictError)        the event does not fit the sample's custody so far

Messages are gettext msgids (translated where they are shown); the web layer chooses the HTTP status.
"""

from __future__ import annotations

from typing import Any

from intake.platform.errors import ConflictError, InputError, NotFoundError, ReuniteError


class _CodeGiven(ReuniteError):
    """A refusal with several reasons: whoever raises it gives the `code` that names the reason."""

    def __init__(self, code: str, message: str, /, **params: Any) -> None:
        self.code = code
        super().__init__(message, **params)


class ForbiddenError(_CodeGiven):
    """The acting lab key may not do this."""


class SampleCodeError(InputError):
    """A sample code that cannot be right (its check character does not match)."""

    code = "bad_sample_code"


class UnknownSampleError(NotFoundError):
    """No sample has this code."""

    code = "unknown_sample"


class ProfileRejectedError(_CodeGiven, InputError):
    """A profile that cannot be stored as sent; `code` says why (unknown_marker, bad_allele, ...)."""


class ProfileConflictError(ConflictError):
    """The sample already has a different current profile."""

    code = "profile_differs"


class CustodyError(ConflictError):
    """A custody event that does not fit the sample's state."""

    code = "custody_conflict"
