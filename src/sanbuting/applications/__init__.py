"""Online business applications (网上办理) and service tickets: the catalogue of business
types, and the service that takes and works applications."""
