"""The ledger: an account's money as append-only double-entry postings in integer fen."""
