"""The officers' console under /console/: server-rendered pages in Chinese and English for case officers.

Registered through the `reunite.blueprints` entry point `console`. `app` holds the blueprint, its settings,
logins (Flask-Login), CSRF (Flask-WTF), the login rate limit (Flask-Limiter) and the language; the pages are in
`pages` (dashboard, cases, profiles, labs, samples, audit log) and `register` (found children). See docs/console.md.
"""

import intake.web.console.accounts  # noqa: F401 - its routes join the blueprint
import intake.web.console.candidates  # noqa: F401 - its routes join the blueprint
import intake.web.console.merge  # noqa: F401 - its routes join the blueprint
import intake.web.console.pages  # noqa: F401 - its routes join the blueprint
import intake.web.console.periods  # noqa: F401 - its filters join the blueprint
import intake.web.console.register  # noqa: F401 - its routes join the blueprint
from intake.web.console.app import bp

__all__ = ["bp"]
