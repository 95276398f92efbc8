"""The Flask application factory: front page and health check, error handling, and the adapters' blueprints.

The web layer knows no channel: each adapter package (`sms`, `bot`, ...) names its blueprint in the
`reunite.blueprints` entry-point group of pyproject.toml, and `create_app` registers whatever is installed.

A provider's webhook (`reunite.webhooks`: Twilio's SMS and status callbacks, Telegram's updates) is served by a
lean app of its own in the same process: the same runtime, settings, limits and error answers, none of the
console's and lab API's request machinery (session cookie, CSRF, login, their rate limiters), which a webhook,
authenticated by its signature or secret, never uses. In a campaign's peak the webhook is what must take every
delivery at the speed of a bare endpoint (docs/reliability.md, "The spool under load"); `create_app` sends the
webhooks' paths to the lean app and everything else to the full one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import entry_points
from typing import Any

from flask import Blueprint, Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from intake.platform.errors import ReuniteError
from intake.platform.settings import Settings
from intake.runtime import Runtime
from intake.web import home
from intake.web.support import json_error, status_of

MAX_REQUEST_BYTES = 64 * 1024
BLUEPRINT_GROUP = "reunite.blueprints"
# Providers' webhooks: served by the lean app (and registered on the full one).
WEBHOOK_GROUP = "reunite.webhooks"


def adapter_blueprints(group: str = BLUEPRINT_GROUP) -> list[Blueprint]:
    """Return the blueprints the installed adapters register in `group`, in entry-point name order."""
    found = sorted(entry_points(group=group), key=lambda ep: ep.name)
    blueprints: list[Blueprint] = []
    for ep in found:
        bp = ep.load()
        if not isinstance(bp, Blueprint):
            raise TypeError(f"entry point {ep.name} = {ep.value} is not a Flask Blueprint")
        blueprints.append(bp)
    return blueprints


def _flask(**options: Any) -> Flask:
    app = Flask(__name__, **options)
    app.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    # Chinese error messages as characters, not \u escapes: a lab engineer reads them in curl's output.
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return json_error(exc.code or 500, exc.description or exc.name)

    @app.errorhandler(ReuniteError)
    def core_error(exc: ReuniteError) -> Response:
        status, code = status_of(exc)
        return json_error(status, str(exc), code)

    return app


class _NoSession(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        return None


WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def webhooks_apart(webhooks: Flask, paths: set[str], rest: WsgiApp) -> WsgiApp:
    """Return a WSGI app that serves a request for one of `paths` (the webhooks' routes) with `webhooks`, and any
    other with `rest`."""
    lean = webhooks.wsgi_app

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") in paths:
            return lean(environ, start_response)
        return rest(environ, start_response)

    return dispatch


def create_app(settings: Settings | None = None, *, rt: Runtime | None = None) -> Flask:
    """Create the web service; tests pass a Runtime on their own database."""
    app = _flask()
    app.extensions["reunite"] = rt or Runtime.start(settings or Settings.from_env())
    webhooks = _flask(static_folder=None)
    webhooks.config = app.config  # one configuration (limits, testing, what the adapters set up)
    webhooks.extensions = app.extensions  # one runtime, and what the adapters keep in it (Telegram's channel)
    webhooks.session_interface = _NoSession()  # a webhook has no session: no cookie to open or sign
    app.register_blueprint(home.bp)
    for blueprint in adapter_blueprints():
        app.register_blueprint(blueprint)
    for blueprint in adapter_blueprints(WEBHOOK_GROUP):
        app.register_blueprint(blueprint)  # url_for, and the routes listed in one place
        webhooks.register_blueprint(blueprint)
    paths = {rule.rule for rule in webhooks.url_map.iter_rules()}
    if any("<" in path for path in paths):
        raise ValueError(f"a webhook's route must be a fixed path: {sorted(paths)}")
    app.wsgi_app = webhooks_apart(webhooks, paths, app.wsgi_app)  # type: ignore[method-assign,assignment]
    if app.extensions["reunite"].settings.trust_proxy_hops:
        hops = app.extensions["reunite"].settings.trust_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]
    return app
