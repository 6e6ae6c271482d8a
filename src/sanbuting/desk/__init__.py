"""The collections desk: worklists of the next day's proposed actions and the account relief
(locks, promises to pay) the desk sets on one account."""
