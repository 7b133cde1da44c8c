"""Import pages of a tenant, under /t/<slug>/import/."""

from django.urls import path

from . import views_import

app_name = "imports"

urlpatterns = [
    path("", views_import.import_index, name="index"),
    path("<str:kind>/", views_import.import_upload, name="upload"),
    path("batches/<int:batch_id>/", views_import.import_batch, name="batch"),
    path("batches/<int:batch_id>/apply/", views_import.import_batch_apply, name="apply"),
    path("batches/<int:batch_id>/map-stage/", views_import.import_batch_map_stage,
         name="map-stage"),
    path("batches/<int:batch_id>/recheck/", views_import.import_batch_recheck, name="recheck"),
    path("batches/<int:batch_id>/errors.csv", views_import.import_batch_errors_csv,
         name="errors-csv"),
]
