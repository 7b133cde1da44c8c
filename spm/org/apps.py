from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "spm.org"
    label = "org"
    verbose_name = "People and teams"
