"""Territory pages of a tenant, under /t/<slug>/territories/."""

from django.urls import path

from . import views

app_name = "territories"

urlpatterns = [
    path("", views.territory_tree, name="tree"),
    path("<int:pk>/", views.territory_detail, name="detail"),
    path("coverage/", views.coverage, name="coverage"),
    path("rules/", views.rule_list, name="rule-list"),
    path("rules/add/", views.rule_add, name="rule-add"),
    path("rules/<int:pk>/", views.rule_edit, name="rule-edit"),
    path("rules/preview/", views.rules_preview_page, name="rules-preview"),
    path("changes/", views.change_list, name="change-list"),
    path("changes/<int:pk>/", views.change_detail, name="change-detail"),
    path("balance/", views.balance, name="balance"),
    path("balance/<int:pk>/", views.proposal_detail, name="proposal-detail"),
    path("balance/<int:pk>/accept/", views.proposal_accept, name="proposal-accept"),
    path("balance/<int:pk>/reject/", views.proposal_reject, name="proposal-reject"),
    path("accounts/<int:pk>/", views.account_territories, name="account"),
]
