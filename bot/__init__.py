"""Telegram channel adapter (to come)."""
