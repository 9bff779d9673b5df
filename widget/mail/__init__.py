"""Email continuity (docs/EMAIL.md): a conversation goes on by email in both directions.

`addresses` signs and reads the per-conversation reply addresses, `continuity` emails a
visitor the agents' messages they have not seen, `inbound` turns an emailed reply (from the
SMTP receiver, `receiver`, or a provider's inbound webhook, `webhooks`) into a message of the
conversation, and `unsubscribe` signs the links that stop the emails.
"""
