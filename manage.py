#!/usr/bin/env python
"""Parley's command-line entry point (Django's manage.py)."""

import os
import sys
from pathlib import Path

# The Django project lives in platform/, a plain folder: a package named `platform` would shadow
# Python's own module and break `import uuid`. So platform/ goes on the path, after the repo root.
ROOT = Path(__file__).resolve().parent
sys.path.insert(1, str(ROOT / "platform"))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    if os.environ["DJANGO_SETTINGS_MODULE"] != "config.settings.production":
        # Development with no DATABASE_URL: the embedded PostgreSQL, started before Django reads
        # the settings (they start nothing); the commands' child processes inherit its URL.
        from config.embedded import database_url_ensure

        database_url_ensure()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
