from django.urls import path

from apps.identity.api import id_tags, views

urlpatterns = [
    path("auth/register", views.RegisterApi.as_view(), name="auth-register"),
    path("auth/token", views.TokenObtainApi.as_view(), name="auth-token"),
    path("auth/token/refresh", views.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/token/verify", views.TokenVerifyApi.as_view(), name="auth-token-verify"),
    path("auth/me", views.MeApi.as_view(), name="auth-me"),
    path("auth/operators", views.OperatorListCreateApi.as_view(), name="auth-operators"),
    path("auth/users/<uuid:user_id>/role", views.UserRoleApi.as_view(), name="auth-user-role"),
    path("auth/api-keys", views.ApiKeyListCreateApi.as_view(), name="auth-api-keys"),
    path("auth/api-keys/current", views.ApiKeyCurrentApi.as_view(), name="auth-api-key-current"),
    path("auth/api-keys/<uuid:key_id>", views.ApiKeyRevokeApi.as_view(), name="auth-api-key"),
    path("auth/id-tags", id_tags.IdTagListCreateApi.as_view(), name="auth-id-tags"),
    path("auth/id-tags/<uuid:id_tag_id>", id_tags.IdTagDeleteApi.as_view(), name="auth-id-tag"),
]
