"""Views of the tenant dashboard (tenant hosts) and of signup (the platform host)."""
