#!/usr/bin/env bash
# Installs and starts everything the project needs on Debian 12/13, idempotently.
# Each step checks first, so a second run only verifies.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

missing=()
need_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed" || missing+=("$1"); }

# --- system packages ---------------------------------------------------------
# redis-server: django-q2's broker when REDIS_URL is set (several machines); the tests start their own.
for p in postgresql postgresql-contrib gdal-bin libgdal-dev libgeos-dev libproj-dev proj-bin binutils \
         fonts-ipaexfont poppler-utils chromium python3 python3-venv python3-dev build-essential make \
         redis-server; do
  need_pkg "$p"
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# PostGIS must match the server's major version, which differs between Debian 12 (15) and 13 (17).
PG_MAJOR=$(ls /usr/lib/postgresql | sort -n | tail -1)
missing=()
need_pkg "postgresql-${PG_MAJOR}-postgis-3"
need_pkg "postgresql-${PG_MAJOR}-postgis-3-scripts"
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- PostgreSQL server ----------------------------------------------------------
if ! pg_lsclusters -h 2>/dev/null | grep -q "^${PG_MAJOR} "; then
  say "creating PostgreSQL ${PG_MAJOR} cluster"
  $SUDO pg_createcluster "${PG_MAJOR}" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$PG_MAJOR" '$1==v && $2=="main" {print $4}' | grep -q online; then
  say "starting PostgreSQL ${PG_MAJOR}"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "${PG_MAJOR}" main start 2>/dev/null \
    || $SUDO pg_ctlcluster "${PG_MAJOR}" main start
fi
for _ in $(seq 1 30); do
  pg_isready -q && break
  sleep 1
done

# --- database role, database, extension ----------------------------------------
# Only the default local database is created here; a DATABASE_URL pointing elsewhere is taken as given.
if [ -z "${DATABASE_URL:-}" ]; then
  DB_USER=$(id -un)
  DB_NAME=${DB_NAME:-gunmane}
  as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -c "$*"; else sudo -u postgres sh -c "$*"; fi; }
  if ! as_pg "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='${DB_USER}'\"" | grep -q 1; then
    say "creating database role ${DB_USER}"
    # Superuser because Django's test runner must CREATE EXTENSION postgis in the test database.
    as_pg "createuser -s ${DB_USER}"
  fi
  if ! psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='${DB_NAME}'" | grep -q 1; then
    say "creating database ${DB_NAME}"
    createdb "${DB_NAME}"
  fi
  psql -q -d "${DB_NAME}" -c "CREATE EXTENSION IF NOT EXISTS postgis" 2>&1 | grep -v 'already exists' || true
else
  # psql does not know the postgis:// scheme Django accepts.
  url=$(printf '%s' "$DATABASE_URL" | sed -E 's#^(postgis|postgres)://#postgresql://#')
  dbname=$(printf '%s' "$url" | sed -E 's#^.*/([^/?]+)(\?.*)?$#\1#')
  server=$(printf '%s' "$url" | sed -E "s#/[^/?]+(\?.*)?\$#/postgres\1#")
  if ! psql "$server" -tAc "SELECT 1 FROM pg_database WHERE datname='${dbname}'" 2>/dev/null | grep -q 1; then
    say "creating database ${dbname} from DATABASE_URL"
    psql "$server" -qc "CREATE DATABASE \"${dbname}\"" || true
  fi
  psql "$url" -qc "CREATE EXTENSION IF NOT EXISTS postgis" 2>&1 | grep -v 'already exists' || true
fi

# --- virtualenv ------------------------------------------------------------------
if [ ! -x .venv/bin/python ]; then
  say "creating virtualenv .venv"
  python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha1sum pyproject.toml | cut -c1-12)
if [ ! -f "$stamp" ]; then
  say "installing Python dependencies from pyproject.toml"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  rm -f .venv/.installed-*
  touch "$stamp"
fi
say "ready (PostgreSQL ${PG_MAJOR}, PostGIS $(dpkg-query -W -f='${Version}' "postgresql-${PG_MAJOR}-postgis-3" | cut -d+ -f1))"
