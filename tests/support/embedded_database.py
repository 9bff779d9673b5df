"""The test suite's database when DATABASE_URL is unset: the embedded PostgreSQL.

A pytest plugin named with `-p` in pyproject.toml's addopts, so that it is loaded before
pytest-django reads the settings (which start nothing themselves, config/embedded.py). The URL it
puts in the environment reaches every process the tests start.
"""

import pytest

from config.embedded import database_url_ensure


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    options = parser.parse_known_args(args)
    if options.help or options.version:
        return
    database_url_ensure()
