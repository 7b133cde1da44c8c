"""Making a tenant ready to use: its fiscal periods, default stages, the admin's first-run
settings page and the setup checklist on the admin's home. Sits above every app it reads."""
