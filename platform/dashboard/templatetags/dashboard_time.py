"""`{% chat_time value %}`: a `<time>` in the agent's zone by the dashboard's one rule
(`dashboard.timezones`), which `static/dashboard/times.js` applies to live messages."""

from django import template
from django.utils import timezone
from django.utils.html import format_html

from dashboard.timezones import chat_time_text, chat_time_title

register = template.Library()


@register.simple_tag
def chat_time(moment):
    if not moment:
        return ""
    return format_html(
        '<time datetime="{}" title="{}" data-chat-time>{}</time>',
        moment.isoformat(),
        chat_time_title(moment),
        chat_time_text(moment, timezone.now()),
    )
