"""The people who run a Parley installation. They belong to the platform (the public schema), not
to any tenant, and sign in to the operator console with a password and a TOTP code."""

from django.contrib.auth.hashers import check_password, make_password
from django.db import models

from tenants.secrets_at_rest import EncryptedTextField


class Operator(models.Model):
    email = models.EmailField(unique=True)
    password = models.CharField(max_length=128)  # Django's password hash
    totp_secret = EncryptedTextField()  # base32, encrypted at rest like the tenants' secrets
    # The last TOTP time step accepted: a code is good once (a code seen over a shoulder, or
    # replayed from a log, is refused).
    totp_last_step = models.BigIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.email

    def set_password(self, raw: str) -> None:
        self.password = make_password(raw)

    def check_password(self, raw: str) -> bool:
        return check_password(raw, self.password)
