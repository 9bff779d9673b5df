"""The chat's fixtures: a site of tenant A (no public rooms; a module that needs them overrides
`site`), its visitor Grace, and an agent of tenant A."""

import pytest

from tests.support.factories import make_agent, make_site, make_visitor


@pytest.fixture
def site(tenant_a):
    return make_site(tenant_a)


@pytest.fixture
def visitor(site):
    return make_visitor(site, name="Grace")


@pytest.fixture
def agent(tenant_a):
    return make_agent(tenant_a)
