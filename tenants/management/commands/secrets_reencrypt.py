from django.core.management.base import BaseCommand

from tenants.services import secrets_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt stored identity and webhook secrets with the current SECRET_KEY "
        "(after a rotation, before the old key leaves SECRET_KEY_FALLBACKS)."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"re-encrypted {secrets_reencrypt()} secrets")
