"""URLs of the platform host (public schema): widget, public APIs, signup."""

urlpatterns: list = []
