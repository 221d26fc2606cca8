
urlpatterns: list = [
    # /api/asyncapi.yaml arrives with the event catalog
]
