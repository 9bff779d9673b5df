"""The message, upload and conversation budgets of visitors (docs/SECURITY.md, Abuse budgets):
well below the plan's monthly messages, so that anyone holding the public site key cannot spend a
tenant's month.

- each visitor: `BUDGET_VISITOR_MESSAGES` per `BUDGET_VISITOR_WINDOW` seconds;
- each address (all its visitors, of every site of the tenant): `BUDGET_ADDRESS_MESSAGES` per
  `BUDGET_ADDRESS_WINDOW` seconds;
- each address in a calendar month: `BUDGET_ADDRESS_MONTH_SHARE` of the plan's monthly messages.

Counted by `core.budgets` (process memory, shared through Redis every few seconds). Messages
posted through the site-key API or by agents are the tenant's own and are not budgeted.
"""

import math

from django.conf import settings

from core.budgets import CalendarMonth, Fixed, WindowBudget
from tenants.billing.plans import Plan

visitor_messages = WindowBudget("visitor-messages", Fixed(settings.BUDGET_VISITOR_WINDOW))
address_messages = WindowBudget("address-messages", Fixed(settings.BUDGET_ADDRESS_WINDOW))
address_month = WindowBudget("address-month", CalendarMonth())


class VisitorMessage:
    """The budgets one visitor's message draws on: `take()` counts it everywhere, or nowhere
    and returns the seconds to wait; `give_back()` when the message was not stored after all."""

    def __init__(self, *, tenant_id: int, visitor_id: str, address: str, plan: Plan) -> None:
        share = settings.BUDGET_ADDRESS_MONTH_SHARE
        monthly = None if share >= 1 else max(1, math.floor(plan.messages_per_month * share))
        self._draws = [
            (visitor_messages, (tenant_id, visitor_id), settings.BUDGET_VISITOR_MESSAGES),
            (address_messages, (tenant_id, address), settings.BUDGET_ADDRESS_MESSAGES),
        ]
        if monthly is not None:
            self._draws.append((address_month, (tenant_id, address), monthly))
        self._taken: list[tuple[WindowBudget, tuple]] = []

    def take(self) -> float:
        for budget, key, limit in self._draws:
            wait = budget.take(key, limit)
            if wait:
                self.give_back()
                return wait
            self._taken.append((budget, key))
        return 0.0

    def give_back(self) -> None:
        for budget, key in self._taken:
            budget.give_back(key)
        self._taken = []


visitor_uploads = WindowBudget("visitor-uploads", Fixed(settings.BUDGET_VISITOR_UPLOAD_WINDOW))
address_uploads = WindowBudget("address-uploads", Fixed(settings.BUDGET_ADDRESS_UPLOAD_WINDOW))


def upload_take(*, tenant_id: int, visitor_id: str, address: str) -> float:
    """Count one upload of a visitor (and of their address): 0.0, or, counting nothing, the
    seconds to wait (429). Agents' and the API's uploads are the tenant's own: not budgeted."""
    wait = visitor_uploads.take((tenant_id, visitor_id), settings.BUDGET_VISITOR_UPLOADS)
    if wait:
        return wait
    wait = address_uploads.take((tenant_id, address), settings.BUDGET_ADDRESS_UPLOADS)
    if wait:
        visitor_uploads.give_back((tenant_id, visitor_id))
    return wait


visitor_conversations = WindowBudget(
    "visitor-conversations", Fixed(settings.BUDGET_VISITOR_CONVERSATION_WINDOW)
)
address_conversations = WindowBudget(
    "address-conversations", Fixed(settings.BUDGET_ADDRESS_CONVERSATION_WINDOW)
)


def conversation_take(*, tenant_id: int, visitor_id: str, address: str) -> float:
    """Count one conversation a visitor starts with "New conversation" (and one of their
    address): 0.0, or, counting nothing, the seconds to wait (429). Each is a row in the inbox
    once written in, so a visitor holding the public site key must not make them without end."""
    wait = visitor_conversations.take(
        (tenant_id, visitor_id), settings.BUDGET_VISITOR_CONVERSATIONS
    )
    if wait:
        return wait
    wait = address_conversations.take((tenant_id, address), settings.BUDGET_ADDRESS_CONVERSATIONS)
    if wait:
        visitor_conversations.give_back((tenant_id, visitor_id))
    return wait
