"""Payments: posting them once, allocating them, and the orders they cause."""
