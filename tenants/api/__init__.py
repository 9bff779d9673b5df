"""The public-schema part of the site-key API: sites and their keys, webhooks, the API-key auth
and pagination that every part uses. `config.site_api` mounts these routers with the chat's."""
