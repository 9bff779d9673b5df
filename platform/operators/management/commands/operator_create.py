"""`manage.py operator_create EMAIL`: an operator of this installation (asks for the password
unless --password-stdin), and prints the TOTP secret and its otpauth:// address once, for the
operator's authenticator app."""

import getpass
import sys

import orjson
import pyotp
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from core.actors import Actor, acting_as
from operators.auth import totp_uri
from operators.models import Operator
from tenants.audit import audit_record


class Command(BaseCommand):
    help = "Create an operator (or give one a new password and TOTP secret) and print the secret."
    stealth_options = ("stdin",)  # call_command(..., stdin=...) in place of the process's

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--password-stdin", action="store_true", help="read it from stdin")

    def handle(self, *args, email: str, password_stdin: bool, **options):
        email = email.strip().lower()
        if password_stdin:
            password = options.get("stdin", sys.stdin).readline().rstrip("\n")
        else:
            password = getpass.getpass(f"Password for {email}: ")
        try:
            validate_password(password)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        operator = Operator.objects.filter(email=email).first() or Operator(email=email)
        created = operator.pk is None
        operator.set_password(password)
        operator.totp_secret = pyotp.random_base32()
        operator.totp_last_step = 0
        operator.is_active = True
        operator.save()
        actor = Actor("command", f"manage.py operator_create (by {getpass.getuser()})")
        with acting_as(actor):
            audit_record(
                "operator.created" if created else "operator.reset", tenant=None, target=email
            )
        self.stdout.write(
            orjson.dumps(
                {
                    "operator": email,
                    "created": created,
                    "totp_secret": operator.totp_secret,
                    "totp_uri": totp_uri(operator),
                },
                option=orjson.OPT_INDENT_2,
            ).decode()
        )
