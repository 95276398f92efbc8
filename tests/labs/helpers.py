"""Assertion helpers for lab tests (the builders are in tests/support/factories.py)."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from intake.labs.directory import import_labs
from intake.models import Lab
from intake.platform.errors import InputError


def import_errors(session: Session, text: str) -> str:
    """Import a lab file that must be refused; return the refusal and check that no lab was saved."""
    with pytest.raises(InputError) as err:
        import_labs(session, io.StringIO(text))
    assert session.scalar(sa.select(sa.func.count()).select_from(Lab)) == 0
    return str(err.value)
