#!/usr/bin/env bash
# First start of the db service (official postgres image, /docker-entrypoint-initdb.d):
# the roles and databases bin/setup-db creates for `make run`, with passwords from
# the compose secrets. Runs once, on an empty data volume.
set -euo pipefail
db_password="$(cat /run/secrets/db_password)"
ro_password="$(cat /run/secrets/datastore_ro_password)"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v db_password="$db_password" -v ro_password="$ro_password" <<'SQL'
CREATE ROLE ckan LOGIN PASSWORD :'db_password';
CREATE ROLE datastore_ro LOGIN PASSWORD :'ro_password';
CREATE DATABASE ckan OWNER ckan ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE datastore OWNER ckan ENCODING 'UTF8' TEMPLATE template0;
\connect ckan
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
SQL
