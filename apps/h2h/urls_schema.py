"""The URLconf the schema is generated from: only the API's operations, at their mounted paths."""

from django.urls import include, path

from apps.h2h.urls import api_patterns

urlpatterns = [path("api/h2h/v1/", include((api_patterns, "h2h")))]
