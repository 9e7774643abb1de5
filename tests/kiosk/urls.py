"""The project's URLs with the kiosk mounted at "/", for tests run before config/urls.py includes it."""

from django.urls import include, path

from config.urls import urlpatterns as project_urlpatterns

_mounted = any(getattr(p, "namespace", None) == "kiosk" for p in project_urlpatterns)
urlpatterns = list(project_urlpatterns) + ([] if _mounted else [path("", include("apps.kiosk.urls"))])
