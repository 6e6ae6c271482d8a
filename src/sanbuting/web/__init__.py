"""The online channel: the REST API, the customer portal and the staff console, served by
`sanbuting serve` (FastAPI; server-rendered Jinja2 pages with vendored htmx)."""
