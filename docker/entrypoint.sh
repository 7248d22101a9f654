#!/usr/bin/env bash
# Entry point of the portal image (docker/Dockerfile): every role of the compose
# file runs through it.
#
#   web                 gunicorn, WEB_WORKERS processes (config/gunicorn.conf.py)
#   worker              ckan jobs worker (xloader loads, notifications…)
#   harvest-gather      ckan harvester gather-consumer
#   harvest-fetch       ckan harvester fetch-consumer
#   harvest-scheduler   ckan binhphuoc harvest scheduler
#   init                database schema, every plugin migration, the audit trail, DataStore
#                       permissions, harvest sources (idempotent; run once per upgrade)
#   ckan ARGS…          any CKAN command, e.g. `ckan sysadmin add admin`
#
# Settings come from environment variables; secrets from files: for every
# variable NAME_FILE set, NAME is read from that file (compose secrets are the
# files /run/secrets/…). The database URLs are built from CKAN_DB_HOST and the
# passwords unless CKAN_SQLALCHEMY_URL etc. are given whole.
set -euo pipefail

for var in $(compgen -e); do
    case "$var" in
        *_FILE)
            name="${var%_FILE}"
            file="${!var}"
            [ -r "$file" ] || { echo "ERROR: $var names $file, which cannot be read" >&2; exit 1; }
            printf -v "$name" '%s' "$(cat "$file")"
            export "${name?}"
            unset "$var"
            ;;
    esac
done

: "${CKAN_DB_HOST:=db}"
if [ -z "${CKAN_SQLALCHEMY_URL:-}" ]; then
    : "${CKAN_DB_PASSWORD:?CKAN_DB_PASSWORD or CKAN_DB_PASSWORD_FILE is required}"
    export CKAN_SQLALCHEMY_URL="postgresql://ckan:$CKAN_DB_PASSWORD@$CKAN_DB_HOST/ckan"
fi
if [ -z "${CKAN_DATASTORE_WRITE_URL:-}" ]; then
    export CKAN_DATASTORE_WRITE_URL="postgresql://ckan:$CKAN_DB_PASSWORD@$CKAN_DB_HOST/datastore"
fi
if [ -z "${CKAN_DATASTORE_READ_URL:-}" ]; then
    : "${CKAN_DATASTORE_RO_PASSWORD:?CKAN_DATASTORE_RO_PASSWORD or CKAN_DATASTORE_RO_PASSWORD_FILE is required}"
    export CKAN_DATASTORE_READ_URL="postgresql://datastore_ro:$CKAN_DATASTORE_RO_PASSWORD@$CKAN_DB_HOST/datastore"
fi
: "${CKAN_SECRET_KEY:?CKAN_SECRET_KEY or CKAN_SECRET_KEY_FILE is required}"
export CKAN_SITE_URL="${CKAN_SITE_URL:?CKAN_SITE_URL is required (the public URL)}"
export CKAN_SOLR_URL="${CKAN_SOLR_URL:-http://solr1:8983/solr/ckan}"
export CKAN_REDIS_URL="${CKAN_REDIS_URL:-redis://redis:6379/0}"
export CKAN_STORAGE_PATH="${CKAN_STORAGE_PATH:-/var/lib/ckan}"
export CKAN_XLOADER_SITE_URL="${CKAN_XLOADER_SITE_URL:-http://web:8000}"
export CKAN_XLOADER_API_TOKEN="${CKAN_XLOADER_API_TOKEN:-NOT_SET}"
export CKAN_SMTP_SERVER="${CKAN_SMTP_SERVER:-localhost:25}"
export CKAN_SMTP_MAIL_FROM="${CKAN_SMTP_MAIL_FROM:-cong-du-lieu@localhost}"
export CKAN_SSO_DISCOVERY_URL="${CKAN_SSO_DISCOVERY_URL:-}"
export CKAN_SSO_CLIENT_ID="${CKAN_SSO_CLIENT_ID:-}"
export CKAN_SSO_CLIENT_SECRET="${CKAN_SSO_CLIENT_SECRET:-}"
export CKAN_BEHIND_TLS="${CKAN_BEHIND_TLS:-false}"
export CKAN_INI="${CKAN_INI:-/srv/app/docker/ckan.ini}"

CKAN=(ckan -c "$CKAN_INI")
role="${1:-web}"
shift || true
case "$role" in
    web)
        exec gunicorn --config /srv/app/config/gunicorn.conf.py --bind "0.0.0.0:${WEB_PORT:-8000}" "$@" ;;
    worker)            exec "${CKAN[@]}" jobs worker "$@" ;;
    harvest-gather)    exec "${CKAN[@]}" harvester gather-consumer ;;
    harvest-fetch)     exec "${CKAN[@]}" harvester fetch-consumer ;;
    harvest-scheduler) exec "${CKAN[@]}" binhphuoc harvest scheduler ;;
    init)
        # The same steps as bin/setup-ckan, in the same order (tests/deploy checks the list).
        "${CKAN[@]}" db init
        "${CKAN[@]}" db upgrade -p activity
        "${CKAN[@]}" db upgrade -p harvest
        "${CKAN[@]}" db upgrade -p binhphuoc_schema
        "${CKAN[@]}" db upgrade -p binhphuoc_workflow
        "${CKAN[@]}" db upgrade -p binhphuoc_feedback
        "${CKAN[@]}" db upgrade -p binhphuoc_sso
        "${CKAN[@]}" db upgrade -p binhphuoc_certification
        # The audit trail and the DataStore permissions need the database superuser
        # (POSTGRES_PASSWORD_FILE).
        "${CKAN[@]}" binhphuoc audit attach \
            | PGPASSWORD="${POSTGRES_PASSWORD:?POSTGRES_PASSWORD_FILE is required for init}" \
              psql -v ON_ERROR_STOP=1 -q -h "$CKAN_DB_HOST" -U postgres -d ckan
        "${CKAN[@]}" datastore set-permissions \
            | PGPASSWORD="${POSTGRES_PASSWORD:?POSTGRES_PASSWORD_FILE is required for init}" \
              psql -v ON_ERROR_STOP=1 -q -h "$CKAN_DB_HOST" -U postgres -d datastore
        "${CKAN[@]}" binhphuoc harvest sync --allow-missing-env
        ;;
    ckan) exec "${CKAN[@]}" "$@" ;;
    *) exec "$role" "$@" ;;
esac
