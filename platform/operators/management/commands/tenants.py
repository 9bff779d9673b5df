"""`manage.py tenants list|show|set-plan|suspend|resume|export|delete`: the operator's actions on
tenants for scripts. Every subcommand prints one JSON document; an error prints
`{"error": {"code", "message"}}` on stderr and exits with 1."""

import getpass
import sys
from datetime import datetime
from pathlib import Path

import orjson
from django.core.management.base import BaseCommand, CommandError

from core.actors import Actor, acting_as
from core.errors import ParleyError
from operators.selectors import tenant_overview, tenants_matching
from tenants.billing.services import plan_grant
from tenants.models import Tenant
from tenants.services import tenant_delete, tenant_resume, tenant_suspend
from widget.exports import tenant_export


class Command(BaseCommand):
    help = "List, inspect and act on tenants (JSON output)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="tenants with plan, status and usage")
        listing.add_argument("--query", default="", help="part of a slug, name or host name")
        actions.add_parser("show", help="one tenant").add_argument("tenant")
        set_plan = actions.add_parser("set-plan", help="put a tenant on a plan, over Stripe's")
        set_plan.add_argument("tenant")
        set_plan.add_argument("plan", help="a plan's code; 'none' takes the operator's plan back")
        set_plan.add_argument("--until", help="when the plan ends (ISO 8601); default: never")
        suspend = actions.add_parser("suspend", help="stop a tenant's widget, sockets and keys")
        suspend.add_argument("tenant")
        suspend.add_argument("--reason", default="")
        actions.add_parser("resume", help="lift a suspension").add_argument("tenant")
        export = actions.add_parser("export", help="a zip of the tenant's data, no secrets")
        export.add_argument("tenant")
        export.add_argument("--output", required=True, help="the archive's path")
        delete = actions.add_parser("delete", help="delete a tenant and all its data")
        delete.add_argument("tenant")
        delete.add_argument("--confirm", required=True, help="the tenant's name, in full")

    def handle(self, *args, action: str, **options):
        actor = Actor("command", f"manage.py tenants {action} (by {getpass.getuser()})")
        try:
            with acting_as(actor):
                answer = getattr(self, "do_" + action.replace("-", "_"))(**options)
        except ParleyError as error:
            self._fail(error.code, error.message)
        self.stdout.write(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode())

    def _fail(self, code: str, message: str):
        sys.stderr.write(orjson.dumps({"error": {"code": code, "message": message}}).decode())
        sys.stderr.write("\n")
        raise CommandError(message, returncode=1)

    def _tenant(self, slug: str) -> Tenant:
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            self._fail("not_found", f"no tenant {slug!r}")
        return tenant

    def do_list(self, *, query: str, **_):
        return [tenant_overview(tenant).as_json() for tenant in tenants_matching(query)]

    def do_show(self, *, tenant: str, **_):
        return tenant_overview(self._tenant(tenant)).as_json()

    def do_set_plan(self, *, tenant: str, plan: str, until: str | None, **_):
        found = self._tenant(tenant)
        try:
            ends = datetime.fromisoformat(until) if until else None
        except ValueError:
            self._fail("bad_request", "until: not an ISO 8601 date and time")
        if ends is not None and ends.tzinfo is None:
            self._fail("bad_request", "until: give a time zone (2027-01-31T00:00:00+00:00)")
        plan_grant(tenant_id=found.pk, plan_code="" if plan == "none" else plan, until=ends)
        return tenant_overview(found).as_json()

    def do_suspend(self, *, tenant: str, reason: str, **_):
        return tenant_overview(tenant_suspend(tenant=self._tenant(tenant), reason=reason)).as_json()

    def do_resume(self, *, tenant: str, **_):
        return tenant_overview(tenant_resume(tenant=self._tenant(tenant))).as_json()

    def do_export(self, *, tenant: str, output: str, **_):
        path = Path(output)
        counts = tenant_export(self._tenant(tenant), path)
        return {"archive": str(path), "records": counts}

    def do_delete(self, *, tenant: str, confirm: str, **_):
        return tenant_delete(tenant=self._tenant(tenant), confirm_name=confirm)
