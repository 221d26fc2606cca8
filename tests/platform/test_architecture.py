"""House rules that hold for every context: no relations across apps, every route says who may call it."""

from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver


def project_app(model) -> str | None:
    """The project app a model belongs to (apps.* and evcharge.*), None for Django's and libraries' apps."""
    name = model._meta.app_config.name
    return name if name.startswith(("apps.", "evcharge.")) else None


def test_no_relation_crosses_an_app_boundary():
    crossing = []
    for model in apps.get_models(include_auto_created=True):
        source = project_app(model)
        if source is None:
            continue
        for field in model._meta.get_fields(include_hidden=True):
            if not field.is_relation or field.related_model is None or (field.auto_created and not field.concrete):
                continue
            target = project_app(field.related_model)
            if target is not None and target != source:
                crossing.append(f"{model._meta.label}.{field.name} -> {field.related_model._meta.label}")
    assert not crossing, "reference other contexts by UUID, not by relation: " + ", ".join(crossing)


def _api_views(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _api_views(pattern, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            view_class = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
            yield route, view_class


def _states(view_class, attribute: str) -> bool:
    own_classes = [c for c in view_class.__mro__ if not c.__module__.startswith(("rest_framework", "django."))]
    return any(attribute in vars(c) for c in own_classes)


def test_every_api_route_states_who_may_call_it():
    routes = list(_api_views(get_resolver()))
    assert any(route == "api/v1/auth/me" for route, _ in routes)
    silent = [
        route for route, view_class in routes if view_class is None or not _states(view_class, "permission_classes")
    ]
    assert not silent, f"set permission_classes on the views of: {silent}"


def test_the_guard_itself_spots_relations_across_apps():
    from apps.identity.models import User

    assert project_app(User) == "apps.identity"
    assert project_app(apps.get_model("auth", "Group")) is None
