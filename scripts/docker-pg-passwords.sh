#!/bin/sh
# Runs once when the postgres container initialises its data directory, right after
# scripts/pg_roles.sql created the roles: gives both login roles their passwords from the
# environment (docker-compose.yml), since the containers reach PostgreSQL over the network.
set -e
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  --set owner_password="$SPM_OWNER_DB_PASSWORD" \
  --set app_password="$SPM_APP_DB_PASSWORD" <<'SQL'
ALTER ROLE spm_owner PASSWORD :'owner_password';
ALTER ROLE spm_app PASSWORD :'app_password';
SQL
