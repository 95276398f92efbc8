"""What every console request goes through: the secret key, the login, CSRF, the rate limit, the language, the
database session, and the pages' errors; and the login, logout and language routes.

Settings: `settings.console` (REUNITE_SECRET_KEY, REUNITE_CONSOLE_LOGIN_RATE_LIMIT, REUNITE_CONSOLE_RATE_LIMIT_STORAGE,
REUNITE_CONSOLE_IDLE_MINUTES; docs/configuration.md), copied into `app.config` when the blueprint is registered,
where tests may override them.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_login import login_required as _login_required
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from intake.models import Officer, OfficerRole, as_utc, audit
from intake.models.officers import (
    LoginOutcome,
    check_login,
    end_session,
    officer_by_session_token,
    prepare_logins,
)
from intake.platform.clock import CHINA
from intake.platform.errors import ReuniteError
from intake.platform.i18n import CHINESE, ENGLISH, N_, normalise_language, translate
from intake.web.console.labels import label_msgid
from intake.web.support import runtime, status_of

bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates", static_folder="static"
)

# No script at all, styles and images from the console only, no framing, forms post only here.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
SECRET_KEY_FILE = "secret_key"
F = TypeVar("F", bound=Callable[..., Any])


class OfficerLogin(UserMixin):  # type: ignore[misc]  # flask-login ships no types
    """The Flask-Login user of a request: the officer, identified in the cookie by their current session token."""

    def __init__(self, officer: Officer) -> None:
        self.officer = officer

    def get_id(self) -> str:
        return self.officer.session_token or ""


def secret_key(configured: str | None, data_dir: Path) -> str:
    """Return REUNITE_SECRET_KEY, or the key kept in the data folder (made, readable by us only, on first run)."""
    if configured:
        return configured
    path = data_dir / SECRET_KEY_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another worker made it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fp:
        fp.write(key)
    return key


def _setup(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    prepare_logins()
    settings = runtime_of(app).settings
    app.config.setdefault("CONSOLE_LOGIN_RATE_LIMIT", settings.console.login_rate_limit)
    app.config.setdefault("CONSOLE_RATE_LIMIT_STORAGE", settings.console.rate_limit_storage)
    app.config.setdefault("CONSOLE_IDLE_MINUTES", settings.console.idle_minutes)
    if not app.secret_key:
        app.secret_key = secret_key(settings.console.secret_key, settings.data_dir)
    # Flask defines these keys (None and False), so setdefault would leave them: set them unless a test did.
    if app.config.get("SESSION_COOKIE_SAMESITE") is None:
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    if (settings.public_base_url or "").startswith("https://"):
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    # Only the console's forms carry CSRF tokens; the SMS webhook and the lab API authenticate otherwise.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    CSRFProtect(app)
    logins = LoginManager(app)
    logins.login_view = "console.login"
    logins.login_message = cast(str, None)
    logins.user_loader(_load_user)
    limiter = Limiter(
        get_remote_address, storage_uri=app.config["CONSOLE_RATE_LIMIT_STORAGE"], headers_enabled=True
    )
    limiter.init_app(app)
    # Flask-Limiter checks before every request of the app: the webhooks' must not pay for the console's
    limiter.request_filter(lambda: request.blueprint != bp.name)
    limiter.limit(
        lambda: str(current_app.config["CONSOLE_LOGIN_RATE_LIMIT"]),
        methods=["POST"],
        exempt_when=lambda: request.endpoint != "console.login",
    )(bp)
    app.extensions["reunite_console_limiter"] = limiter


def runtime_of(app: Flask) -> Any:
    return app.extensions["reunite"]


bp.record_once(_setup)


def db() -> Session:
    """Return this request's database session (opened on first use, rolled back and closed at the end)."""
    if "console_db" not in g:
        g.console_db = runtime().session_factory()
    s: Session = g.console_db
    return s


@bp.teardown_request
def _close_session(_exc: BaseException | None) -> None:
    s = g.pop("console_db", None)
    if s is not None:
        s.rollback()
        s.close()


def _load_user(token: str) -> OfficerLogin | None:
    officer = officer_by_session_token(db(), token)
    return OfficerLogin(officer) if officer is not None else None


@bp.before_request
def _protect() -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf: CSRFProtect = current_app.extensions["csrf"]
        csrf.protect()


@bp.before_request
def _session_ends() -> ResponseReturnValue | None:
    """End a session idle too long, and say so when a session was ended elsewhere (a login on another browser,
    an account disabled): the cookie still names a login, but not the account's current one."""
    if request.endpoint == "console.static":
        return None
    now = int(time.time())
    if current_user.is_authenticated:
        idle = int(current_app.config["CONSOLE_IDLE_MINUTES"]) * 60
        seen = session.get("seen")
        if isinstance(seen, int) and now - seen > idle:
            me = officer()
            audit(db(), me.actor, "officer.session_idle", "officer", me.id)
            end_session(db(), me)
            db().commit()
            return _ended(N_("Your session ended after %(minutes)s minutes without activity. Please log in again."),
                          minutes=idle // 60)  # fmt: skip
        session["seen"] = now
        return None
    if session.get("_user_id"):
        return _ended(N_("Your session was ended: this account logged in elsewhere, logged out, or was "
                         "disabled. Please log in again."))  # fmt: skip
    return None


def _ended(message: str, **params: Any) -> ResponseReturnValue:
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:
        session["lang"] = lang
    flash(t(message, **params))
    if request.method == "GET" and request.endpoint != "console.login_form":
        return redirect(url_for("console.login_form", next=request.full_path.rstrip("?")))
    return redirect(url_for("console.login_form"))


@bp.after_request
def _no_store(response: Any) -> Any:
    # Pages carry personal and genetic data: never kept by a browser or proxy cache.
    if request.endpoint != "console.static":
        response.headers["Cache-Control"] = "no-store"
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


def language() -> str:
    """Return the reader's language: chosen in the console, else from Accept-Language (Chinese by default)."""
    chosen = session.get("lang")
    if chosen in (CHINESE, ENGLISH):
        return str(chosen)
    return normalise_language(request.accept_languages.best_match(["zh-CN", "zh", "en"]))


def t(msgid: str, **params: Any) -> str:
    """Translate a console text into the reader's language."""
    return translate(language(), msgid, **params)


def officer() -> Officer:
    """Return the logged-in officer of this request."""
    return cast(OfficerLogin, current_user).officer


@bp.app_context_processor
def _template_helpers() -> dict[str, Any]:
    if not request.blueprint or request.blueprint != "console":
        return {}
    me = officer() if current_user.is_authenticated else None
    lang = language()
    return {"_": t, "me": me, "lang": lang, "html_lang": "zh-CN" if lang == CHINESE else "en"}


@bp.app_template_filter("label")
def label(code: object) -> str:
    """The reader's words for a stored code (intake.web.console.labels): no page shows a raw code."""
    return t(label_msgid(code))


@bp.app_template_filter("when")
def when(moment: datetime | None) -> str:
    """Write a stored time in China Standard Time, with the zone named ("2026-11-29 14:05 CST" / "北京时间")."""
    if moment is None:
        return "–"
    return f"{as_utc(moment).astimezone(CHINA):%Y-%m-%d %H:%M} {t(N_('CST'))}"


def login_required(view: F) -> F:
    """Let only logged-in officers in; the others are sent to the login page."""
    return cast(F, _login_required(view))


def roles_required(*roles: OfficerRole) -> Callable[[F], F]:
    """Let only logged-in officers with one of `roles` in (403 for the others)."""

    def decorate(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if officer().role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def render(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    return render_template(f"console/{template}", **context), status


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> ResponseReturnValue:
    messages = {
        400: N_("The request was refused: %(reason)s"),
        403: N_("You may not see this page."),
        404: N_("There is no such page or record."),
        429: N_("Too many attempts. Wait a minute and try again."),
    }
    code = exc.code or 500
    reason = exc.description or exc.name
    if isinstance(
        exc, CSRFError
    ):  # the library's reason ("The CSRF token is missing.") means nothing to officers
        reason = t(
            N_("the form had expired or came from another page. Go back, reload the page and send it again")
        )
    return render("error.html", code, code=code, message=t(messages.get(code, "%(reason)s"), reason=reason))


@bp.errorhandler(ReuniteError)
def _core_error(exc: ReuniteError) -> ResponseReturnValue:
    status, _code = status_of(exc)
    return render("error.html", status, code=status, message=t(exc.message, **exc.params))


def safe_next(target: str | None) -> str | None:
    """Return `target` if it is a page of this console (a path, no host, no scheme), else None."""
    target = (target or "").strip()
    if not target.startswith("/console/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(ch) < 32 for ch in target):
        return None
    return target


@bp.get("/login")
def login_form() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("console.dashboard"))
    return render("login.html", next=safe_next(request.args.get("next")))


@bp.post("/login")
def login() -> ResponseReturnValue:
    username = request.form.get("username", "")[:64]
    password = request.form.get("password", "")
    target = safe_next(request.form.get("next"))
    s = db()
    result = check_login(s, username, password, request.remote_addr or "")
    s.commit()
    if result.outcome is not LoginOutcome.OK or result.officer is None:
        # One answer for a wrong username, a wrong password and a lock: it tells no one which usernames exist.
        return render("login.html", 401, next=target, error=t(N_(
            "Wrong username or password, or too many attempts from here: wait 15 minutes or ask an "
            "administrator to unlock the account.")))  # fmt: skip
    lang = session.get("lang")
    session.clear()  # a fresh session at login: nothing set before it (a planted cookie) survives
    if lang:
        session["lang"] = lang
    login_user(OfficerLogin(result.officer))
    session["seen"] = int(time.time())
    return redirect(target or url_for("console.dashboard"))


@bp.post("/logout")
@login_required
def logout() -> ResponseReturnValue:
    s = db()
    me = officer()
    end_session(s, me)
    s.commit()
    logout_user()
    session.clear()
    flash(t(N_("You are logged out.")))
    return redirect(url_for("console.login_form"))


@bp.post("/language")
def set_language() -> ResponseReturnValue:
    session["lang"] = normalise_language(request.form.get("lang"))
    return redirect(safe_next(request.form.get("next")) or url_for("console.dashboard"))
