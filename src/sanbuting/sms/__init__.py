"""Text messages: the queue other domains enqueue into (`sms.queue`), their encoding as SMS
(`sms.encoding`), an SMPP 3.4 gateway to an SMSC (`sms.gateway`), and the sender loop that
moves queued rows through it (`sms.sender`). docs/sms.md tells the whole story.

Issue 15's templates, sending rules, broadcasts and portal live beside these
(`sms.templates*`, `sms.rules*`, `sms.broadcasts*`) and enqueue through `sms.queue` only.
"""
