"""Channel-free core: cases, consents, labs, bookings and the intake dialogue."""
