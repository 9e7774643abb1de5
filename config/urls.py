from django.contrib import admin
from django.urls import include, path

from apps.core import views as core_views

urlpatterns = [
    path("healthz/", core_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/h2h/v1/", include("apps.h2h.urls")),
    path("", include("apps.kiosk.urls")),
]

handler404 = "apps.h2h.errors.not_found_view"
