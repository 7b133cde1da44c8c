"""People pages of a tenant: the people list, person detail and the team tree."""

from django.urls import path

from . import views

app_name = "org"

urlpatterns = [
    path("people/", views.person_list, name="person-list"),
    path("people/<int:pk>/", views.person_detail, name="person-detail"),
    path("teams/", views.team_tree_page, name="team-tree"),
]
