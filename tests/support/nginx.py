"""Rendering infra/nginx/parley.conf.template and running Debian's nginx on loopback for tests."""

import shutil
import subprocess
import time
from pathlib import Path
from string import Template

from tests.support.processes import ROOT

TEMPLATE = ROOT / "infra" / "nginx" / "parley.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def render_server_config(*, platform_host: str, upstreams: list[str], listen: str) -> str:
    """The template with the same variables the nginx image's envsubst fills in production."""
    servers = " ".join(f"server {upstream} max_fails=0;" for upstream in upstreams)
    return Template(TEMPLATE.read_text()).safe_substitute(
        PARLEY_PLATFORM_HOST=platform_host, PARLEY_UPSTREAM_SERVERS=servers, PARLEY_LISTEN=listen
    )


def write_main_config(prefix: Path, server_config: str) -> Path:
    """A complete nginx.conf around the server config, everything kept under `prefix`."""
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "logs").mkdir(exist_ok=True)
    (prefix / "parley.conf").write_text(server_config)
    main = prefix / "nginx.conf"
    main.write_text(
        f"""daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    include {prefix}/parley.conf;
}}
"""
    )
    return main


def nginx_test(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [NGINX, "-t", "-p", str(config.parent), "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
    )


class Nginx:
    """nginx in the foreground on loopback, stopped on exit."""

    def __init__(self, config: Path):
        self.config = config
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Nginx":
        self.process = subprocess.Popen(
            [NGINX, "-p", str(self.config.parent), "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        time.sleep(0.3)
        if self.process.poll() is not None:
            raise RuntimeError(self.process.stderr.read().decode())
        return self

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
