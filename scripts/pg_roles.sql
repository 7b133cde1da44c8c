-- Roles and database for SPM on PostgreSQL; run once as a superuser (idempotent).
--   spm_owner: owns the tables, runs migrations (and may create the test database).
--   spm_app:   what web and worker processes log in as; neither superuser nor owner, so the
--              FORCEd row-level security policies always bind it.
SELECT 'CREATE ROLE spm_owner LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOBYPASSRLS'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'spm_owner')\gexec
SELECT 'CREATE ROLE spm_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'spm_app')\gexec
SELECT 'CREATE DATABASE spm OWNER spm_owner'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'spm')\gexec
