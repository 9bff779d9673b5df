"""What the conversation page's label and snooze parts need, read here so that the page's view
stays as it is: the conversation's labels, every label to add, and whether it is snoozed."""

from django import template
from django.utils import timezone

from widget.models import Conversation, Label

register = template.Library()


@register.simple_tag
def conversation_labels(conversation: Conversation) -> dict:
    on = list(conversation.labels.all())
    ids = {label.pk for label in on}
    return {"on": on, "addable": [label for label in Label.objects.all() if label.pk not in ids]}


@register.simple_tag
def snoozed_until(conversation: Conversation):
    """The time the conversation is snoozed until, if that is still to come."""
    until = conversation.snoozed_until
    return until if until and until > timezone.now() else None
