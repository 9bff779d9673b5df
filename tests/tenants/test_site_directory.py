"""The hot-path site lookup: cached, refuses dead keys, forgets a site when it changes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from core.errors import UnknownSiteKey
from tenants.selectors import site_current_key
from tenants.services import site_create, site_revoke_keys, site_rotate_key
from tenants.site_directory import asite_for_key, site_cache_clear, site_for_key

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _empty_cache():
    site_cache_clear()
    yield
    site_cache_clear()


@pytest.fixture
def site(tenant_a):
    return site_create(tenant=tenant_a, name="Shop", allowed_origins=["https://shop.example.com"])


def test_a_live_key_names_its_site_and_tenant(site, tenant_a):
    info = site_for_key(site_current_key(site).key)
    assert info.site_id == site.id
    assert info.tenant_id == tenant_a.id
    assert info.schema_name == "t_alpha"
    assert info.allowed_origins == ("https://shop.example.com",)


def test_a_cached_answer_costs_no_query(site, django_assert_num_queries):
    key = site_current_key(site).key
    site_for_key(key)
    with django_assert_num_queries(0):
        site_for_key(key)


async def test_the_async_lookup_answers_from_the_cache(site):
    key = await _current_key(site)
    info = await asite_for_key(key)
    assert info.site_id == site.id


@pytest.mark.parametrize("key", [None, "", "sk_not_a_site_key", "pk_unknown", "pk_" + "x" * 80])
def test_unknown_keys_are_refused(key):
    with pytest.raises(UnknownSiteKey):
        site_for_key(key)


def test_a_rotated_key_works_until_its_grace_expires(site):
    old = site_current_key(site).key
    site_rotate_key(site=site, grace_seconds=3600)
    new = site_current_key(site).key
    assert new != old
    assert site_for_key(old).site_id == site.id
    assert site_for_key(new).site_id == site.id

    site.keys.filter(key=old).update(expires_at=timezone.now() - timedelta(seconds=1))
    site_cache_clear()  # as after SITE_CACHE_SECONDS
    with pytest.raises(UnknownSiteKey):
        site_for_key(old)
    assert site_for_key(new).site_id == site.id


def test_revoking_forgets_the_cached_answer_at_once(site):
    key = site_current_key(site).key
    site_for_key(key)
    site_revoke_keys(site=site)
    with pytest.raises(UnknownSiteKey):
        site_for_key(key)


def test_a_changed_allow_list_is_seen_at_once(site):
    key = site_current_key(site).key
    site_for_key(key)
    site.allowed_origins = ["https://new.example.com"]
    site.save()
    assert site_for_key(key).allowed_origins == ("https://new.example.com",)


async def _current_key(site):
    from channels.db import database_sync_to_async

    return await database_sync_to_async(lambda: site_current_key(site).key)()
