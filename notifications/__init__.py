"""Notifications to officers and families (to come)."""
