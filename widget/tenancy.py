"""Running database work for a tenant from async code (consumers, the message writer).

django-tenants keeps the schema on the thread's database connection, and every consumer's DB
work runs on one shared thread (`database_sync_to_async`). So async code never sets a tenant: it
hands one sync unit of work to `in_tenant`, which runs it inside `schema_context(schema)`; the
context puts back the schema the thread had before, so no tenant is left for the next unit.
"""

from channels.db import database_sync_to_async
from django_tenants.utils import schema_context


def _in_schema(schema_name: str, function, kwargs: dict):
    with schema_context(schema_name):
        return function(**kwargs)


_run_in_schema = database_sync_to_async(_in_schema)


async def in_tenant(schema_name: str, function, **kwargs):
    """Run `function(**kwargs)` in the tenant's schema on the database thread."""
    return await _run_in_schema(schema_name, function, kwargs)
