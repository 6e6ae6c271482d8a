"""What-if: the figures an uploaded relief-policy set would produce over the store, before
it is activated."""
