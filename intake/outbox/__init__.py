"""The transactional outbox: notifications queued in the same transaction as their event (queue), their
templates, appointment reminders, and what happens to them once sent (delivery)."""
