"""Which storage holds uploaded files: the `attachments` entry of Django's STORAGES, from the
environment.

A folder on this machine (FileSystemStorage) unless an S3-compatible store is named, either by
`PARLEY_STORAGE_URL` (`s3://<bucket>?endpoint_url=http://...&region_name=...`, optional
`access_key`, `secret_key` and `location`, a prefix inside the bucket) or by django-storages'
own `AWS_STORAGE_BUCKET_NAME` (with `AWS_S3_ENDPOINT_URL`, `AWS_S3_REGION_NAME`). Without keys in
the URL, boto3 finds them itself (`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, the machine's role).
"""

from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

S3_BACKEND = "storages.backends.s3.S3Storage"
FILESYSTEM_BACKEND = "django.core.files.storage.FileSystemStorage"
_URL_OPTIONS = ("endpoint_url", "region_name", "access_key", "secret_key", "location")


def s3_options(*, bucket: str, endpoint_url: str = "", region_name: str = "", **more) -> dict:
    """S3Storage's options for Parley's files: private objects (no ACL, every read signed or
    through Parley), never overwritten by a name the storage invents (keys are unique ids)."""
    options = {
        "bucket_name": bucket,
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": True,
        "object_parameters": {"CacheControl": "private, max-age=3600"},
    }
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    if region_name:
        options["region_name"] = region_name
    options.update({name: value for name, value in more.items() if value})
    return options


def attachment_storage(
    *, storage_url: str, bucket: str, endpoint_url: str, region_name: str, root: str
) -> dict:
    """The STORAGES entry for attachments (see the module docstring)."""
    if storage_url:
        parts = urlsplit(storage_url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ImproperlyConfigured(
                "PARLEY_STORAGE_URL must look like s3://<bucket>?endpoint_url=...; "
                f"got {parts.scheme or 'no'} scheme"
            )
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = sorted(set(query) - set(_URL_OPTIONS))
        if unknown:
            raise ImproperlyConfigured(
                f"PARLEY_STORAGE_URL has unknown options: {', '.join(unknown)}"
            )
        return {
            "BACKEND": S3_BACKEND,
            "OPTIONS": s3_options(bucket=unquote(parts.netloc), **query),
        }
    if bucket:
        return {
            "BACKEND": S3_BACKEND,
            "OPTIONS": s3_options(
                bucket=bucket, endpoint_url=endpoint_url, region_name=region_name
            ),
        }
    return {"BACKEND": FILESYSTEM_BACKEND, "OPTIONS": {"location": root}}
