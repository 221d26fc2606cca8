"""The Tiltfile, evaluated with a Starlark interpreter against stubbed Tilt built-ins that record the calls."""

from pathlib import Path

import pytest
import yaml

starlark = pytest.importorskip("starlark", reason="starlark-pyo3 is in the dev extra")
helm = pytest.importorskip("helm_python", reason="helm-python-sdk is in the dev extra")

ROOT = Path(__file__).resolve().parents[2]
TILT_BUILTINS = [
    "allow_k8s_contexts",
    "docker_build",
    "k8s_yaml",
    "helm",
    "k8s_resource",
    "sync",
    "run",
    "fall_back_on",
    "link",
    "local_resource",
]


@pytest.fixture(scope="module")
def tilt():
    calls: dict[str, list[tuple[tuple, dict]]] = {name: [] for name in TILT_BUILTINS}

    def recorder(name):
        def builtin(*args, **kwargs):
            calls[name].append((args, kwargs))
            return {"builtin": name, "args": list(args), "kwargs": kwargs}

        return builtin

    module = starlark.Module()
    for name in TILT_BUILTINS:
        module.add_callable(name, recorder(name))
    ast = starlark.parse("Tiltfile", (ROOT / "Tiltfile").read_text())
    starlark.eval(module, ast, starlark.Globals.standard())
    return calls


def rendered_workloads(helm_call) -> set[str]:
    (chart_path,), options = helm_call
    values: dict = {}
    for values_path in options.get("values", []):
        values.update(yaml.safe_load((ROOT / values_path).read_text()))
    with helm.Chart.load(ROOT / chart_path) as chart:
        rendered = chart.render(values, name=options["name"], namespace=options["namespace"], is_install=True)
    names = set()
    for path, text in rendered.items():
        if path.endswith(".txt"):
            continue
        for doc in yaml.safe_load_all(text):
            if doc and doc["kind"] in ("Deployment", "StatefulSet", "Job"):
                names.add(doc["metadata"]["name"])
    return names


def test_builds_the_one_image_with_live_update(tilt):
    [(args, kwargs)] = tilt["docker_build"]
    assert args == ("evcharge", ".")
    assert kwargs["build_args"] == {"SOURCE_OWNER": "10001"}
    steps = kwargs["live_update"]
    syncs = {tuple(step["args"]) for step in steps if step["builtin"] == "sync"}
    assert {("./evcharge", "/app/evcharge"), ("./apps", "/app/apps")} <= syncs
    assert steps[0]["builtin"] == "fall_back_on"  # a dependency change rebuilds the image


def test_the_image_tilt_builds_is_the_image_the_chart_deploys(tilt):
    [(args, _)] = tilt["docker_build"]
    [(_, options)] = tilt["helm"]
    dev_values = yaml.safe_load((ROOT / options["values"][0]).read_text())
    assert dev_values["image"]["repository"] == args[0]


def test_deploys_the_chart_with_dev_values(tilt):
    [(args, _kwargs)] = tilt["k8s_yaml"]
    assert args[0]["builtin"] == "helm"
    [(helm_args, helm_kwargs)] = tilt["helm"]
    assert helm_args == ("charts/evcharge",)
    assert helm_kwargs["values"] == ["charts/evcharge/values-dev.yaml"]


def test_port_forwards_web_and_the_rabbitmq_ui(tilt):
    forwards = {args[0]: kwargs.get("port_forwards", []) for args, kwargs in tilt["k8s_resource"]}
    assert "8000:8000" in forwards["evcharge-web"]
    assert "15672:15672" in forwards["evcharge-rabbitmq"]


def test_every_tilt_resource_is_a_workload_the_chart_renders(tilt):
    workloads = rendered_workloads(tilt["helm"][0])
    named = {args[0] for args, _ in tilt["k8s_resource"]}
    assert named <= workloads, named - workloads
    for _, kwargs in tilt["k8s_resource"]:
        assert set(kwargs.get("resource_deps", [])) <= workloads
