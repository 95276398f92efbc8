"""Notifications: `reunite worker` claims the outbox's messages, routes each to its channel's sender and records
what the provider said (retries, fallbacks, reminders). The SMS and Telegram senders live with their adapters
(sms/, bot/telegram/) and are found through the `reunite.senders` entry points; e-mail's is here (mail.py)."""
