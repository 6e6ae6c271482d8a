"""Jobs: the service's work above the store (which only keeps things): the dunning proposal
(`preview`), releasing held enforcement orders (`releases`)."""
