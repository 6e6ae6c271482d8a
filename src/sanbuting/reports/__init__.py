"""Reports for managers and regulators, built from a run's `summary.json`."""
