"""The chat's part of the site-key API (`/api/v1/conversations`, `/api/v1/visitors`): routers
that `config.site_api` mounts beside the public-schema ones of `tenants.api`."""
