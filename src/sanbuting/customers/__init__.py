"""Customers of the online channel: signing in by phone with a one-time code sent through the
outbox, binding accounts by region + account number + the holder's name, and reading only the
accounts bound to them (`customers.service`)."""
