"""The `reunite bot` command: run the Telegram bot by long polling, or register its webhook."""

from __future__ import annotations

import signal
import threading
from types import FrameType

import click
from telegram.error import TelegramError

from intake.cli.support import runtime_from_env, settings_from_env
from intake.platform.settings import Settings, TelegramSettings


def _settings(everything: Settings | None = None, *, secret: bool = False) -> TelegramSettings:
    """Return the Telegram settings (read from the environment unless given), refusing what cannot run the bot."""
    settings = (everything or settings_from_env()).telegram
    if not settings.token:
        raise click.ClickException("set TELEGRAM_BOT_TOKEN to your bot's token (BotFather gives it)")
    if secret and not settings.webhook_secret:
        raise click.ClickException(
            "set TELEGRAM_WEBHOOK_SECRET (16-256 characters A-Z a-z 0-9 _ -), the same for `reunite serve`"
        )
    return settings


@click.group("bot", invoke_without_command=True)
@click.pass_context
def bot(ctx: click.Context) -> None:
    """Run the Telegram bot by long polling (TELEGRAM_BOT_TOKEN); see the subcommands for the webhook."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.telegram.adapter import TelegramChannel
    from bot.telegram.api import BotApi
    from bot.telegram.polling import run_polling

    everything = settings_from_env()
    settings = _settings(everything)
    rt = runtime_from_env(settings=everything)
    api = BotApi(settings)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        api.start()
        me = api.bot.bot
        click.echo(f"reunite bot @{me.username} polling {settings.base_url}… (Ctrl-C to stop)")
        run_polling(TelegramChannel(rt.session_factory, api, rt.settings.data_dir), stop=stop)
    except TelegramError as exc:
        raise click.ClickException(f"the Bot API refused: {exc}") from None
    finally:
        api.close()


@bot.command("set-webhook")
@click.argument("url")
def set_webhook(url: str) -> None:
    """Register URL (https://…/telegram/webhook) as the bot's webhook, with TELEGRAM_WEBHOOK_SECRET."""
    from bot.telegram.adapter import TelegramChannel
    from bot.telegram.api import BotApi
    from bot.telegram.polling import ALLOWED_UPDATES

    if not url.startswith(("https://", "http://")):
        raise click.ClickException(f"{url!r} is not a URL: expected https://your.host/telegram/webhook")
    settings = _settings(secret=True)
    api = BotApi(settings)
    try:
        api.run(
            api.bot.set_webhook(url, secret_token=settings.webhook_secret, allowed_updates=ALLOWED_UPDATES)
        )
        TelegramChannel.register_commands_with(api)
    except TelegramError as exc:
        raise click.ClickException(f"the Bot API refused: {exc}") from None
    finally:
        api.close()
    click.echo(f"webhook set: {url}")


@bot.command("delete-webhook")
def delete_webhook() -> None:
    """Remove the bot's webhook (to run it by polling again)."""
    from bot.telegram.api import BotApi

    api = BotApi(_settings())
    try:
        api.run(api.bot.delete_webhook())
    except TelegramError as exc:
        raise click.ClickException(f"the Bot API refused: {exc}") from None
    finally:
        api.close()
    click.echo("webhook deleted")
