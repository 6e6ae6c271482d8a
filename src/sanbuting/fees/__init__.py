"""Late fees (違約金): exact integer calculation over day ranges, and its explanation."""

from sanbuting.fees.latefee import FeeSegment, LateFee, compute_late_fee, rates_for

__all__ = ["FeeSegment", "LateFee", "compute_late_fee", "rates_for"]
