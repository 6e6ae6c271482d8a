"""Reading and writing the contract's files: the input tables, their specs, and the rejects."""
