"""The Telegram channel: the same intake dialogue in a chat app, by long polling or by webhook.

api.py       a synchronous handle on python-telegram-bot's Bot (one event loop thread)
config.py    TELEGRAM_BOT_TOKEN, TELEGRAM_API_BASE_URL, TELEGRAM_WEBHOOK_SECRET
adapter.py   one update in (stored by the inbox before any work), the replies out as messages and buttons
polling.py   `reunite bot`: getUpdates in a loop, each update through the same inbox as the webhook
webhook.py   POST /telegram/webhook on the web service, the secret header checked in constant time
cli.py       the `reunite bot` command (polling, set-webhook, delete-webhook)
"""
