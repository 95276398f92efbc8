"""`reunite bot set-webhook` / `delete-webhook`, the settings' refusals, and the polling loop's resilience."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner

from bot.telegram import polling
from bot.telegram.adapter import TelegramChannel
from bot.telegram.api import BotApi
from intake.cli import main
from intake.platform.settings import TelegramSettings
from tests.bot.conftest import SECRET


def _env(tg, **more: str) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_BASE_URL": tg.base_url, **more}


def test_set_webhook_registers_the_url_with_the_secret_and_the_commands_in_both_languages(tg):
    url = "https://reunite.example.org/telegram/webhook"
    result = CliRunner().invoke(
        main, ["bot", "set-webhook", url], env=_env(tg, TELEGRAM_WEBHOOK_SECRET=SECRET)
    )
    assert result.exit_code == 0, result.output
    assert tg.webhook is not None
    assert tg.webhook["url"] == url and tg.webhook["secret_token"] == SECRET
    assert tg.webhook["allowed_updates"] == ["message", "callback_query"]
    english, chinese = tg.calls_of("setMyCommands")
    assert "language_code" not in english.params and chinese.params["language_code"] == "zh"
    names = [c["command"] for c in english.params["commands"]]
    assert names[:11] == [
        "start",
        "report",
        "book",
        "status",
        "link",
        "language",
        "help",
        "cancel",
        "stop",
        "mydata",
        "delete",
    ]
    assert chinese.params["commands"][1]["description"] == "登记走失孩子"
    result = CliRunner().invoke(main, ["bot", "delete-webhook"], env=_env(tg))
    assert result.exit_code == 0 and tg.webhook is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TELEGRAM_BOT_TOKEN": ""}, "set TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BOT_TOKEN": "not a token"}, "TELEGRAM_BOT_TOKEN is not a bot token"),
        ({"TELEGRAM_WEBHOOK_SECRET": ""}, "set TELEGRAM_WEBHOOK_SECRET"),
        ({"TELEGRAM_WEBHOOK_SECRET": "short"}, "TELEGRAM_WEBHOOK_SECRET: expected 16 to 256"),
        ({"TELEGRAM_API_BASE_URL": "ftp://x"}, "TELEGRAM_API_BASE_URL='ftp://x'"),
    ],
)
def test_set_webhook_refuses_bad_settings_in_one_line(tg, env, message):
    settings = {**_env(tg, TELEGRAM_WEBHOOK_SECRET=SECRET), **env}
    result = CliRunner().invoke(
        main, ["bot", "set-webhook", "https://x.example/telegram/webhook"], env=settings
    )
    assert result.exit_code == 1 and message in result.output
    assert tg.webhook is None


def test_the_file_url_sits_beside_the_bot_api_url():
    assert (
        TelegramSettings(base_url="http://127.0.0.1:8081/bot").base_file_url
        == "http://127.0.0.1:8081/file/bot"
    )
    assert TelegramSettings().base_file_url == "https://api.telegram.org/file/bot"


def test_an_update_that_cannot_be_handled_is_retried_then_skipped_and_never_stalls_the_others(
    tg, session_factory, tmp_path, monkeypatch
):
    monkeypatch.setattr(polling, "RETRY_PAUSE_S", 0.01)
    api = BotApi(TelegramSettings(token=tg.token, base_url=tg.base_url))
    channel = TelegramChannel(session_factory, api, tmp_path)
    tries: dict[int, int] = {}
    real = channel.handle

    def flaky(update):
        tries[update.update_id] = tries.get(update.update_id, 0) + 1
        if update.update_id == 1 and tries[1] < 3:
            raise ConnectionError("the database is away for a moment")
        if update.update_id == 2:
            raise RuntimeError("this update can never be handled")
        real(update)

    monkeypatch.setattr(channel, "handle", flaky)
    for text in ("HELP", "HELP", "HELP"):
        tg.push_message(301, text, language_code="en")
    stop = threading.Event()
    thread = threading.Thread(
        target=polling.run_polling, args=(channel,), kwargs={"stop": stop, "poll_timeout": 1}
    )
    thread.start()
    try:
        tg.wait_for(lambda: len(tg.sent_to(301)) == 2 and tg.pending() == 0)
    finally:
        stop.set()
        thread.join(timeout=10)
        api.close()
    assert tries == {1: 3, 2: polling.MAX_TRIES, 3: 1}
