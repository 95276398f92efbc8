"""The errors of reunite's core, as a small documented tree.

    ReuniteError            anything the core refuses; `message` is English, `key`+`params` translate it
    ├── InputError          the person's input cannot be used as given (bad date, unknown choice, malformed request)
    ├── NotFoundError       the thing asked for does not exist (case reference, lab, booking)
    ├── ConflictError       the request clashes with the current state
    │   └── SlotFullError   the chosen lab day has no free place left
    └── ConsentRequiredError  the action needs a consent that was not given (or was withdrawn)

Channel adapters turn these into a reply in the person's language (see `intake.platform.i18n`); the web layer
(`intake.web.support.STATUS_OF_ERROR`) chooses the HTTP 4xx and JSON body. They never become a 500.
"""

from __future__ import annotations

from typing import Any


class ReuniteError(Exception):
    """Base of every error the core raises on purpose; `message` is a gettext msgid with %(name)s params."""

    def __init__(self, message: str, **params: Any) -> None:
        self.message = message
        self.params = params
        super().__init__(message % params if params else message)


class InputError(ReuniteError):
    """The input cannot be used as given; the message says what would work."""


class NotFoundError(ReuniteError):
    """The referenced object does not exist."""


class ConflictError(ReuniteError):
    """The request clashes with the current state."""


class SlotFullError(ConflictError):
    """The chosen lab day is fully booked."""


class ConsentRequiredError(ReuniteError):
    """A recorded, unwithdrawn consent is needed first."""
