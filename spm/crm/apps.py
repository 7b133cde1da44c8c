from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "spm.crm"
    label = "crm"
    verbose_name = "CRM"
