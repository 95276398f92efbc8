"""SMS channel: Twilio webhook adapter for the intake dialogue."""
