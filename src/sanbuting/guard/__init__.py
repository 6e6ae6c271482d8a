"""Guards the services share, below the web layer: hashing of secrets (`hashing`), rate limits
kept in the process (`limits`) and back-off kept in the database (`throttle`)."""
