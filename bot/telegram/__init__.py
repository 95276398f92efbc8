"""The Telegram channel: the same intake dialogue in a chat app, by long polling or by webhook.

api.py       the bot's one Bot API client: a synchronous handle on python-telegram-bot's Bot (one event loop thread)
adapter.py   one update in (stored by the inbox before any work), the replies out as messages and buttons
polling.py   `reunite bot`: getUpdates in a loop, each update through the same inbox as the webhook
webhook.py   POST /telegram/webhook on the web service, the secret header checked in constant time
sender.py    Telegram messages of the notification worker (the `reunite.senders` entry point), through api.py
media.py     photos that could not be downloaded at once, fetched by `reunite worker`
cli.py       the `reunite bot` command (polling, set-webhook, delete-webhook)

Its settings are `settings.telegram` (intake.platform.settings: TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL,
TELEGRAM_WEBHOOK_SECRET), read and checked once when the process starts.
"""
