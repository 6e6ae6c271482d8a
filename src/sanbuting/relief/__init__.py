"""Relief as one customer sees it: which policies protect their account and until when, in
plain words (`relief.status`), and the account's money position as of a day (`relief.position`)."""
