import json

from django.core.management.base import BaseCommand

from demo.services import demo_description, demo_ensure


class Command(BaseCommand):
    help = "Create (idempotently) the demo tenant, agent and site, and describe them."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the description as JSON")

    def handle(self, *args, **options):
        description = demo_description(demo_ensure())
        if options["json"]:
            self.stdout.write(json.dumps(description, indent=2))
            return
        for name, value in description.items():
            self.stdout.write(f"{name}: {value}")
