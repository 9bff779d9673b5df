"""The demo dashboard's mail page (`/demo/mail/`, only while PARLEY_DEMO_MAIL_DIR is set: the
local settings of `make run`): the emails Parley sent, and a form to answer one (demo/mail.py)."""

import smtplib

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from demo.mail import caught_mail, caught_one, reply_send

MAX_REPLY_CHARS = 4000


class ReplyForm(forms.Form):
    text = forms.CharField(label="Your reply", max_length=MAX_REPLY_CHARS, strip=True)


def _mail_on() -> None:
    if not settings.DEMO_MAIL_DIR:
        raise Http404("The demo's mail catcher is off.")


@login_required
@require_GET
def demo_mail(request):
    _mail_on()
    return render(
        request,
        "demo/mail.html",
        {"mails": caught_mail(), "form": ReplyForm(), "reply_domain": settings.EMAIL_REPLY_DOMAIN},
    )


@login_required
@require_POST
def demo_mail_reply(request, key: str):
    _mail_on()
    original = caught_one(key)
    if original is None:
        raise Http404("No such email.")
    form = ReplyForm(request.POST)
    if not original.reply_to:
        messages.error(request, "This email has no reply address.")
    elif not form.is_valid():
        messages.error(
            request, " ".join(error for errors in form.errors.values() for error in errors)
        )
    else:
        try:
            reply_send(original=original, text=form.cleaned_data["text"])
        except smtplib.SMTPRecipientsRefused:
            messages.error(request, f"The receiver refused {original.reply_to}.")
        except OSError:
            messages.error(
                request,
                "The reply receiver is not running (manage.py mail_receiver on "
                f"port {settings.INBOUND_SMTP_PORT}).",
            )
        else:
            messages.success(request, f"Reply sent to {original.reply_to}.")
    return redirect(f"/demo/mail/#mail-{key}")
