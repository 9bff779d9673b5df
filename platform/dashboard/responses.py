"""What the dashboard's responses have in common beyond Django's shortcuts."""


def shown_once(response):
    """A page that carries a secret shown this once (a new API key, identity secret or signing
    secret) is kept by no cache: the browser's back button must not show it again."""
    response["Cache-Control"] = "no-store"
    return response
