"""The JSON API for DNA labs under /api/v1/: walk-in samples, custody events, profile uploads, GeneMapper imports.

An adapter on the core: registered through the `reunite.blueprints` entry point, never imported by the core.
The routes are in `samples` and `imports`, the request and response models in `schemas`; see docs/labs-api.md.
"""

import intake.web.labapi.imports  # noqa: F401 - its routes join the blueprint
import intake.web.labapi.samples  # noqa: F401 - its routes join the blueprint
import intake.web.labapi.ystr  # noqa: F401 - its routes join the blueprint
from intake.web.labapi.api import bp

__all__ = ["bp"]
