"""The deployment files are valid and name what the production settings require."""

from pathlib import Path

import pytest
import yaml

from config.settings import PRODUCTION_REQUIRED as REQUIRED
from tests.support.nginx import nginx_test, render_server_config, write_main_config
from tests.support.processes import ROOT

INFRA = ROOT / "infra"


def test_the_nginx_config_passes_nginx_t(tmp_path: Path):
    server = render_server_config(
        platform_host="chat.example.com",
        upstreams=["127.0.0.1:8101", "127.0.0.1:8102"],
        listen="127.0.0.1:8199",
    )
    assert "${" not in server
    result = nginx_test(write_main_config(tmp_path, server))
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_the_nginx_config_upgrades_websockets_with_long_timeouts():
    server = render_server_config(platform_host="x", upstreams=["a:1"], listen="80")
    ws = server[server.index("location /ws/") :]
    assert "proxy_set_header Upgrade $http_upgrade" in ws
    assert "proxy_read_timeout 3600s" in ws
    # access log without query strings, and without the credential some paths carry
    assert '"$request_method $parley_logged_uri"' in server
    assert "map $uri $parley_logged_uri" in server


def test_nginx_closes_idle_upstream_connections_before_the_workers_do():
    server = render_server_config(platform_host="x", upstreams=["a:1"], listen="80")
    upstream = server[server.index("upstream parley_workers") :]
    upstream = upstream[: upstream.index("}")]
    assert "keepalive 64;" in upstream
    assert "keepalive_timeout 5s;" in upstream  # the workers' idle timeout is 10 s


def compose() -> dict:
    return yaml.safe_load((INFRA / "compose.yaml").read_text())


def test_compose_runs_postgres_redis_migrations_two_workers_and_nginx():
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "parley-1", "parley-2", "nginx"} <= set(services)
    for worker in ("parley-1", "parley-2"):
        environment = services[worker]["environment"]
        assert set(REQUIRED) <= set(environment), worker
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert services[worker]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )
    assert "migrate_schemas" in services["migrate"]["command"]


def test_compose_runs_the_webhooks_worker_and_the_daily_grace_check():
    services = compose()["services"]
    assert services["webhooks"]["command"] == ["python", "manage.py", "webhooks_worker"]
    assert "manage.py billing_expire_grace" in " ".join(services["billing-grace"]["command"])
    assert services["unanswered"]["command"][2:] == ["notify_unanswered", "--every", "60"]
    for name in ("webhooks", "billing-grace"):
        assert set(REQUIRED) <= set(services[name]["environment"]), name
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def k8s_documents() -> list[dict]:
    documents = []
    for path in sorted((INFRA / "k8s").glob("*.yaml")):
        documents += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def test_kubernetes_workers_have_readiness_a_drain_and_a_disruption_budget():
    by_kind = {}
    for document in k8s_documents():
        by_kind.setdefault(document["kind"], []).append(document)
    (deployment,) = [
        document
        for document in by_kind["Deployment"]
        if document["metadata"]["labels"]["app.kubernetes.io/component"] == "worker"
    ]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert "preStop" in container["lifecycle"]
    assert pod["terminationGracePeriodSeconds"] >= 30
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert by_kind["PodDisruptionBudget"][0]["spec"]["minAvailable"] >= 1
    assert "Job" in by_kind  # migrations before rollout


def test_kubernetes_environment_provides_every_required_setting():
    documents = k8s_documents()
    provided = set()
    for document in documents:
        if document["kind"] == "ConfigMap":
            provided |= set(document["data"])
        if document["kind"] == "Secret":
            provided |= set(document["stringData"])
    assert set(REQUIRED) <= provided


def test_kubernetes_runs_the_webhooks_worker_and_a_daily_grace_check():
    documents = k8s_documents()
    commands = {}
    for document in documents:
        if document["kind"] == "Deployment":
            pod = document["spec"]["template"]["spec"]
        elif document["kind"] == "CronJob":
            assert document["spec"]["schedule"].count(" ") == 4  # daily, cron syntax
            pod = document["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        else:
            continue
        (container,) = pod["containers"]
        refs = {next(iter(source.values()))["name"] for source in container["envFrom"]}
        assert refs == {"parley-config", "parley-secrets"}, document["metadata"]["name"]
        commands[document["kind"], " ".join(container.get("command", []))] = document
    assert ("Deployment", "python manage.py webhooks_worker") in commands
    assert ("CronJob", "python manage.py billing_expire_grace") in commands


@pytest.mark.parametrize("setting", REQUIRED)
def test_env_example_lists_every_required_setting(setting):
    assert f"\n{setting}=" in (ROOT / ".env.example").read_text()


def test_the_image_runs_daphne_as_a_non_root_user():
    dockerfile = (INFRA / "Dockerfile").read_text()
    assert dockerfile.count("FROM ") >= 2  # multi-stage
    assert "\nUSER parley" in dockerfile
    assert '"core.serve", "-v", "0"' in dockerfile


def test_nginx_hides_metrics_and_prometheus_scrapes_with_the_token(tmp_path: Path):
    server = render_server_config(platform_host="x", upstreams=["a:1"], listen="80")
    hidden = server[server.index("location = /metrics") :]
    assert hidden[: hidden.index("}")].split("{", 1)[1].split() == ["return", "404;"]

    documents = k8s_documents()
    (monitor,) = [document for document in documents if document["kind"] == "PodMonitor"]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert endpoint["path"] == "/metrics"
    assert endpoint["authorization"]["credentials"] == {"name": "parley-metrics", "key": "token"}
    (deployment,) = [
        document
        for document in documents
        if document["kind"] == "Deployment"
        and document["metadata"]["labels"].get("app.kubernetes.io/component") == "worker"
    ]
    pod = deployment["spec"]["template"]
    assert "prometheus.io/scrape" not in pod["metadata"].get("annotations", {})
    (container,) = pod["spec"]["containers"]
    token = {variable["name"]: variable for variable in container["env"]}["PARLEY_METRICS_TOKEN"]
    assert token["valueFrom"]["secretKeyRef"] == {"name": "parley-metrics", "key": "token"}
    secrets = {d["metadata"]["name"] for d in documents if d["kind"] == "Secret"}
    assert "parley-metrics" in secrets
