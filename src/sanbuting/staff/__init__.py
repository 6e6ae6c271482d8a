"""Staff of the utilities: accounts with roles, sign-in, the audit log of their actions."""
