from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    name = "spm.onboarding"
    label = "onboarding"
    verbose_name = "Workspace setup"
