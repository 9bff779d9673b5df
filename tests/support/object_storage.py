"""The attachments' storage in tests: the filesystem, or a real S3-compatible server.

`s3_server` (session) starts moto's server mode on 127.0.0.1, a free port, with a bucket;
`attachment_storage` (parametrized: `filesystem`, `s3`) points STORAGES["attachments"] at a
fresh folder or at that bucket for one test, and yields the storage. `s3_environment(server)`
gives a daphne worker the same bucket through PARLEY_STORAGE_URL.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import boto3
import pytest
from django.core.files.storage import storages
from moto.server import ThreadedMotoServer

from core.storage import attachment_storage as storage_entry
from tests.support.processes import free_port

BUCKET = "parley-test-attachments"
KEYS = {"access_key": "testing", "secret_key": "testing"}
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    bucket: str

    @property
    def storage_url(self) -> str:
        query = urlencode({"endpoint_url": self.endpoint_url, "region_name": REGION, **KEYS})
        return f"s3://{self.bucket}?{query}"

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=KEYS["access_key"],
            aws_secret_access_key=KEYS["secret_key"],
        )

    def keys(self, prefix: str = "") -> set[str]:
        listed = self.client().list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return {item["Key"] for item in listed.get("Contents", [])}


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        running = S3Server(endpoint_url=f"http://127.0.0.1:{port}", bucket=BUCKET)
        running.client().create_bucket(Bucket=BUCKET)
        yield running
    finally:
        server.stop()


def s3_environment(server: S3Server) -> dict[str, str]:
    """What a worker started by a test needs to store attachments in the server's bucket."""
    return {"PARLEY_STORAGE_URL": server.storage_url}


@pytest.fixture(params=["filesystem", "s3"])
def attachment_storage(request, settings, tmp_path):
    """STORAGES["attachments"] on the filesystem or on the S3-compatible server, for one test."""
    if request.param == "s3":
        server = request.getfixturevalue("s3_server")
        entry = storage_entry(
            storage_url=server.storage_url, bucket="", endpoint_url="", region_name="", root=""
        )
    else:
        entry = storage_entry(
            storage_url="", bucket="", endpoint_url="", region_name="", root=str(tmp_path)
        )
    settings.STORAGES = {**settings.STORAGES, "attachments": entry}
    return storages["attachments"]
