"""Services that change conversations, one module per concern (selectors, which read, are in
`widget.selectors`):

- `messages`: storing messages, one or a batch in one transaction, and announcing them;
- `rooms`: a visitor's socket joining a room (a public room is created on first use);
- `conversations`: the state agents see and change: read marks, close, reopen, assign, labels,
  snooze, and the same on many at once (`conversations_bulk`);
- `labels`: the tenant's labels themselves;
- `sessions`: starting or resuming a widget session, the identity hash included;
- `erasure`: what is deleted for good: a visitor on request, messages older than the plan keeps.

They run inside the tenant's schema: callers wrap calls in `schema_context(tenant.schema_name)`
(or run within a request that django-tenants has already routed to the tenant), except
`sessions.visitor_session_start`, which enters the site's schema itself. Every real-time event is
published by `widget.events` after the transaction commits; every outbound webhook is queued
inside it (`widget.webhook_events`), so a commit never loses one.
"""
