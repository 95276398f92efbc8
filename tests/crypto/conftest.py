"""Fixtures of the encryption-at-rest tests: the matching service's world (lab API on the test database)."""

from __future__ import annotations

from tests.labapi.conftest import app, client  # noqa: F401 - the lab API on the test database
from tests.matching_service.conftest import world  # noqa: F401 - families and children typed through the API
