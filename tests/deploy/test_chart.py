"""The Helm chart renders with Helm's own engine for three value sets, and every manifest validates
against the Kubernetes schemas, offline."""

from pathlib import Path

import pytest
import yaml

helm = pytest.importorskip("helm_python", reason="helm-python-sdk is in the dev extra")
kubernetes_validate = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is in the dev extra")

CHART = Path(__file__).resolve().parents[2] / "charts" / "evcharge"
KUBERNETES_VERSION = "1.30.0"
APP_COMPONENTS = {"web", "beat", "migrate"}


def values_file(name: str) -> dict:
    return yaml.safe_load((CHART / name).read_text())


VALUE_SETS = {
    "default": {},
    "production": values_file("values-production.yaml"),
    "dev": values_file("values-dev.yaml"),
}


def render(values: dict, *, name: str = "evcharge") -> list[dict]:
    with helm.Chart.load(CHART) as chart:
        chart.validate_schema(values)
        rendered = chart.render(values, name=name, namespace="evcharge", is_install=True)
    manifests = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        manifests.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return manifests


def by_kind(manifests: list[dict], kind: str) -> dict[str, dict]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def containers(manifest: dict) -> list[dict]:
    return manifest["spec"]["template"]["spec"]["containers"]


def env_of(container: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def rendered(request):
    return request.param, render(VALUE_SETS[request.param])


def test_every_manifest_validates_against_the_kubernetes_schema(rendered):
    _, manifests = rendered
    assert manifests
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)


def test_the_chart_lints_clean():
    for values in VALUE_SETS.values():
        report = helm.lint(CHART, values, strict=True)
        assert not report["errors"], report
        assert not [m for m in report["messages"] if m["severity"] >= 2], report


def test_app_pods_run_as_non_root_on_a_read_only_root_with_tmp_resources_and_one_image(rendered):
    name, manifests = rendered
    workloads = [*by_kind(manifests, "Deployment").values(), *by_kind(manifests, "Job").values()]
    bundled = ("postgresql", "rabbitmq", "redis")  # dev-only services with their own images
    app_workloads = [w for w in workloads if not w["metadata"]["name"].endswith(bundled)]
    assert app_workloads
    images = set()
    for workload in app_workloads:
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["automountServiceAccountToken"] is False
        assert {"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}} in pod["volumes"]
        for container in pod["containers"]:
            images.add(container["image"])
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]
            assert security["readOnlyRootFilesystem"] is (name != "dev")
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
            assert container["resources"]["requests"] and container["resources"]["limits"]
    assert len(images) == 1


def test_web_is_probed_served_scaled_and_protected(rendered):
    name, manifests = rendered
    [web] = [d for d in by_kind(manifests, "Deployment").values() if d["metadata"]["name"].endswith("-web")]
    [container] = containers(web)
    assert container["args"] == ["web"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert by_kind(manifests, "Service")["evcharge-web"]["spec"]["ports"][0]["targetPort"] == "http"
    hpas, pdbs = by_kind(manifests, "HorizontalPodAutoscaler"), by_kind(manifests, "PodDisruptionBudget")
    if name == "dev":
        assert web["spec"]["replicas"] == 1 and "evcharge-web" not in hpas and "evcharge-web" not in pdbs
    else:
        assert "replicas" not in web["spec"]  # the HPA owns the count
        assert hpas["evcharge-web"]["spec"]["scaleTargetRef"]["name"] == "evcharge-web"
        assert pdbs["evcharge-web"]["spec"]["minAvailable"] >= 1


def test_the_ocpp_gateway_is_probed_served_and_named_per_pod(rendered):
    _, manifests = rendered
    [gateway] = [
        d for d in by_kind(manifests, "Deployment").values() if d["metadata"]["name"].endswith("-ocpp-gateway")
    ]
    [container] = containers(gateway)
    assert container["args"] == ["ocpp-gateway"]
    assert container["ports"][0]["containerPort"] == 9000
    assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "ocpp"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "ocpp"}
    instance = next(e for e in container["env"] if e["name"] == "OCPP_INSTANCE_ID")
    assert instance["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"  # one routing queue per pod
    assert by_kind(manifests, "Service")["evcharge-ocpp-gateway"]["spec"]["ports"][0]["targetPort"] == "ocpp"


def test_chargers_reach_the_gateway_over_a_websocket_friendly_tls_ingress():
    values = values_file("values-production.yaml")
    values["ocppGateway"] = {
        **values.get("ocppGateway", {}),
        "ingress": {
            "enabled": True,
            "hosts": ["ocpp.example.com"],
            "tls": [{"hosts": ["ocpp.example.com"], "secretName": "ocpp-tls"}],
        },
    }
    manifests = render(values)
    ingress = by_kind(manifests, "Ingress")["evcharge-ocpp-gateway"]
    [rule] = ingress["spec"]["rules"]
    assert rule["http"]["paths"][0]["path"] == "/ocpp/"
    assert rule["http"]["paths"][0]["backend"]["service"]["name"] == "evcharge-ocpp-gateway"
    assert ingress["spec"]["tls"][0]["secretName"] == "ocpp-tls"
    annotations = ingress["metadata"]["annotations"]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 3600


def test_beat_is_exactly_one(rendered):
    _, manifests = rendered
    beat = by_kind(manifests, "Deployment")["evcharge-beat"]
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    assert containers(beat)[0]["args"] == ["beat"]
    assert "evcharge-beat" not in by_kind(manifests, "HorizontalPodAutoscaler")


def test_migrate_runs_as_a_hook_before_upgrades(rendered):
    name, manifests = rendered
    job = by_kind(manifests, "Job")["evcharge-migrate"]
    hooks = job["metadata"]["annotations"]["helm.sh/hook"].split(",")
    assert "pre-upgrade" in hooks
    # before install with an external database; after install when the bundled one starts with the release
    assert ("pre-install" if name == "production" else "post-install") in hooks
    assert containers(job)[0]["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    env_from = {next(iter(ref.values()))["name"] for ref in containers(job)[0]["envFrom"]}
    for source in env_from - {"evcharge-credentials"}:  # its own copies exist before the release's
        hooked = by_kind(manifests, "ConfigMap").get(source) or by_kind(manifests, "Secret").get(source)
        assert hooked["metadata"]["annotations"]["helm.sh/hook-weight"] == "-10"


def test_worker_groups_consume_their_own_queues_and_contexts():
    manifests = render(VALUE_SETS["production"])
    workers = {n: d for n, d in by_kind(manifests, "Deployment").items() if "-worker-" in n}
    assert set(workers) == {"evcharge-worker-billing", "evcharge-worker-telemetry", "evcharge-worker-rest"}
    billing = env_of(containers(workers["evcharge-worker-billing"])[0])
    assert billing["EVENTS_CONSUMERS"] == "billing" and billing["CELERY_QUEUES"] == "evcharge.tasks"
    assert env_of(containers(workers["evcharge-worker-telemetry"])[0])["EVENTS_CONSUMERS"] == "telemetry,reporting"
    hpas = by_kind(manifests, "HorizontalPodAutoscaler")
    assert {"evcharge-worker-billing", "evcharge-worker-telemetry"} <= set(hpas)
    assert "evcharge-worker-rest" not in hpas and workers["evcharge-worker-rest"]["spec"]["replicas"] == 2
    selectors = [w["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] for w in workers.values()]
    assert len(set(selectors)) == 3  # each group scales alone


def test_production_uses_external_services_and_the_existing_secret():
    manifests = render(VALUE_SETS["production"])
    assert not by_kind(manifests, "StatefulSet")
    assert not by_kind(manifests, "Secret")  # credentials come from evcharge-credentials
    web = by_kind(manifests, "Deployment")["evcharge-web"]
    refs = [next(iter(ref.values()))["name"] for ref in containers(web)[0]["envFrom"]]
    assert refs == ["evcharge", "evcharge-credentials"]
    ingress = by_kind(manifests, "Ingress")["evcharge"]
    assert ingress["spec"]["tls"][0]["hosts"] == ["evcharge.example.com"]
    config = by_kind(manifests, "ConfigMap")["evcharge"]["data"]
    assert config["ALLOWED_HOSTS"].startswith("evcharge.example.com")
    assert config["OTEL_EXPORTER_OTLP_ENDPOINT"].startswith("http://otel-collector")


def test_dev_bundles_postgresql_and_rabbitmq_and_points_at_them():
    manifests = render(VALUE_SETS["dev"])
    assert set(by_kind(manifests, "StatefulSet")) == {"evcharge-postgresql", "evcharge-rabbitmq"}
    secret = by_kind(manifests, "Secret")["evcharge"]["stringData"]
    assert secret["DATABASE_URL"] == "postgres://evcharge:evcharge@evcharge-postgresql:5432/evcharge"
    assert secret["CELERY_BROKER_URL"] == "amqp://evcharge:evcharge@evcharge-rabbitmq:5672/evcharge"
    assert len(secret["SECRET_KEY"]) >= 50
    ports = {p["name"] for p in by_kind(manifests, "Service")["evcharge-rabbitmq"]["spec"]["ports"]}
    assert ports == {"amqp", "management"}


def test_external_urls_switch_the_bundled_services_off():
    manifests = render(
        {
            "secrets": {
                "secretKey": "x" * 60,
                "databaseUrl": "postgres://u:p@db.example.com:5432/evcharge",
                "brokerUrl": "amqps://u:p@mq.example.com:5671/evcharge",
            }
        }
    )
    assert not by_kind(manifests, "StatefulSet")
    assert by_kind(manifests, "Secret")["evcharge"]["stringData"]["DATABASE_URL"].startswith("postgres://u:p@db.")


def test_no_secret_ends_up_in_the_config_map(rendered):
    _, manifests = rendered
    for config_map in by_kind(manifests, "ConfigMap").values():
        credentials = {
            "SECRET_KEY",
            "DATABASE_URL",
            "CELERY_BROKER_URL",
            "JWT_SIGNING_KEY",
            "CACHE_URL",
            "METRICS_TOKEN",
        }
        assert not credentials & set(config_map["data"])


@pytest.mark.parametrize(
    "values",
    [
        {"workers": [{"name": "Bad_Name", "queues": ["q"]}]},
        {"workers": [{"name": "ok", "queues": []}]},
        {"config": {"SECRET_KEY": "in-a-configmap"}},
        {"secrets": {"databaseUrl": "mysql://x"}},
        {"web": {"replicas": "two"}},
        {"typo": True},
        {"ingress": {"hosts": [{"host": "x.example.com", "paths": ["/"]}]}},
        {"ingress": {"hosts": [{"host": "x.example.com", "paths": ["/metrics"]}]}},
        {"secrets": {"cacheUrl": "memcache://x"}},
        {"config": {"CACHE_URL": "rediscache://:password@redis:6379/0"}},
    ],
)
def test_the_values_schema_refuses_mistakes(values):
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmValuesError):
        chart.validate_schema(values)


def test_outside_dev_credentials_are_required():
    values = {"postgresql": {"enabled": False}, "rabbitmq": {"enabled": False}}
    with pytest.raises(helm.HelmError, match=r"secrets\.databaseUrl|secrets\.secretKey"):
        render(values)


@pytest.mark.parametrize("values_name", ["values.yaml", "values-dev.yaml", "values-production.yaml"])
def test_worker_groups_name_real_consumers_and_leave_none_out(values_name):
    from evcharge.events.topology import consumer_names

    registered = set(consumer_names())
    groups = values_file(values_name).get("workers") or values_file("values.yaml")["workers"]
    named = [set(group.get("consumers") or []) for group in groups]
    assert set().union(*named) <= registered, set().union(*named) - registered
    assert any(not consumers for consumers in named) or set().union(*named) == registered


# --- trust at the edge: what the ingress exposes, whom the app believes, one shared cache ---


def ingress_paths(manifests: list[dict]) -> list[str]:
    return [
        path["path"]
        for ingress in by_kind(manifests, "Ingress").values()
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]


def routes(path: str, url: str) -> bool:
    """Kubernetes' Prefix match: element-wise, a trailing slash ignored."""
    prefix = [p for p in path.split("/") if p]
    return [p for p in url.split("/") if p][: len(prefix)] == prefix


@pytest.mark.parametrize("values", [VALUE_SETS["production"], {"ingress": {"enabled": True}}])
def test_no_ingress_path_serves_metrics_or_the_probes(values):
    paths = ingress_paths(render(values))
    assert paths
    for url in ("/metrics", "/health/ready", "/health/live"):
        assert not [p for p in paths if routes(p, url)], (url, paths)
    public = ("/api/v1/stations", "/api/schema/", "/admin/login/", "/c/AB12CD", "/reports/dashboard")
    driver_pages = ("/c/AB12CD/start", "/s/some-token", "/s/some-token/stop", "/login", "/logout", "/me/sessions")
    for url in public + driver_pages:
        assert [p for p in paths if routes(p, url)], (url, paths)


@pytest.mark.parametrize("path", ["/", "/metrics", "/metrics/"])
def test_an_ingress_path_routing_metrics_is_refused_at_render(path):
    values = {"ingress": {"enabled": True, "hosts": [{"host": "x.example.com", "paths": [path]}]}}
    with helm.Chart.load(CHART) as chart, pytest.raises(helm.HelmError, match=r"metrics|'not' failed"):
        chart.render(values, name="evcharge", namespace="evcharge", is_install=True)


def test_prometheus_scrapes_the_web_pods_inside_the_cluster(rendered):
    _, manifests = rendered
    annotations = by_kind(manifests, "Deployment")["evcharge-web"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true" and annotations["prometheus.io/path"] == "/metrics"


def test_behind_the_ingress_the_app_trusts_exactly_one_proxy():
    production = by_kind(render(VALUE_SETS["production"]), "ConfigMap")["evcharge"]["data"]
    assert production["NUM_PROXIES"] == "1"
    assert production["FORWARDED_ALLOW_IPS"] != "*"
    with_ingress = by_kind(render({"ingress": {"enabled": True}}), "ConfigMap")["evcharge"]["data"]
    assert with_ingress["NUM_PROXIES"] == "1"
    without = by_kind(render({}), "ConfigMap")["evcharge"]["data"]
    assert "NUM_PROXIES" not in without  # the app's default: 0, the socket address
    assert without["FORWARDED_ALLOW_IPS"] == "127.0.0.1"


def test_dev_bundles_redis_and_every_pod_shares_it_as_the_cache():
    manifests = render(VALUE_SETS["dev"])
    redis = by_kind(manifests, "Deployment")["evcharge-redis"]
    assert containers(redis)[0]["image"].startswith("redis:")
    assert by_kind(manifests, "Service")["evcharge-redis"]["spec"]["ports"][0]["port"] == 6379
    secret = by_kind(manifests, "Secret")["evcharge"]["stringData"]
    assert secret["CACHE_URL"] == "rediscache://evcharge-redis:6379/0"


def test_production_takes_the_cache_and_the_gateway_from_its_secret_not_a_default():
    manifests = render(VALUE_SETS["production"])
    assert "evcharge-redis" not in by_kind(manifests, "Deployment")
    config = by_kind(manifests, "ConfigMap")["evcharge"]["data"]
    assert "PAYMENT_GATEWAY" not in config  # set in evcharge-credentials: the app refuses to start without it
    assert "CACHE_URL" not in config
    explicit = render({"secrets": {"secretKey": "x" * 60, "cacheUrl": "rediss://:pw@cache.example.com:6380/0"}})
    assert by_kind(explicit, "Secret")["evcharge"]["stringData"]["CACHE_URL"].startswith("rediss://")
    assert "evcharge-redis" not in by_kind(explicit, "Deployment")


def test_dev_chooses_the_test_gateway_by_name():
    config = by_kind(render(VALUE_SETS["dev"]), "ConfigMap")["evcharge"]["data"]
    assert config["PAYMENT_GATEWAY"] == "apps.billing.gateways.TestGateway"


def test_in_production_only_the_ingress_controller_and_prometheus_reach_the_web_pods():
    manifests = render(VALUE_SETS["production"])
    policy = by_kind(manifests, "NetworkPolicy")["evcharge-web"]["spec"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "web"
    assert policy["policyTypes"] == ["Ingress"]
    [rule] = policy["ingress"]
    sources = {peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] for peer in rule["from"]}
    assert sources == {"ingress-nginx", "monitoring"}
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    assert not by_kind(render(VALUE_SETS["dev"]), "NetworkPolicy")
