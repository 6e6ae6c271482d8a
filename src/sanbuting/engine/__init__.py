"""The collections engine: one account's days, folded from the rules and the relief policies.

`reference` is the standard: plain Python, one account at a time, day by day, written to read
like domain-rules.md and contract.md ("Exact semantics"). Every other engine must give the
same outputs, byte for byte.
"""
