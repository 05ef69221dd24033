#!/bin/sh
# Prepares what the Temporal server of temporal-server.yaml needs, idempotently, for scripts/temporal-server.sh and
# for docker-compose.yml (temporalio/admin-tools, which has sh but neither bash nor node: keep this POSIX sh).
#   setup-temporal.sh schema     creates the default store and visibility databases if missing and updates both
#                                schemas to the newest version shipped with the server (temporal-sql-tool)
#   setup-temporal.sh drop       drops both databases (a test run's clean slate; the server must be stopped)
#   setup-temporal.sh namespace  registers the namespace and the search attributes of search-attributes.json on a
#                                running server (Temporal CLI), then waits until the frontend accepts them
# Settings: the TEMPORAL_PG_* variables of temporal-server.yaml, TEMPORAL_SCHEMA_DIR (postgresql/v12 of the server's
# schema directory), TEMPORAL_SQL_TOOL and TEMPORAL_CLI (binaries), TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and
# TEMPORAL_NAMESPACE_RETENTION.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
sql_tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
cli="${TEMPORAL_CLI:-temporal}"
schema_dir="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}"
address="${TEMPORAL_ADDRESS:-127.0.0.1:${TEMPORAL_SERVER_PORT:-7234}}"
namespace="${TEMPORAL_NAMESPACE:-default}"

say() { printf '[temporal-setup] %s\n' "$*" >&2; }

sql() {
  "$sql_tool" --plugin postgres12 --endpoint "${TEMPORAL_PG_HOST:-127.0.0.1}" --port "${TEMPORAL_PG_PORT:-5432}" \
    --user "${TEMPORAL_PG_USER:-postgres}" --password "${TEMPORAL_PG_PASSWORD:-}" "$@"
}

# One store: the database if missing, the version tables if missing (setup-schema never lowers a version), then
# every versioned step above the database's current version.
setup_store() {
  db=$1 dir=$2
  sql --database "$db" create-database
  sql --database "$db" setup-schema --version 0.0
  sql --database "$db" update-schema --schema-dir "$schema_dir/$dir/versioned"
  say "database $db: schema $dir up to date"
}

# search-attributes.json is one flat object of name: type; read without jq, which the admin-tools image lacks.
search_attributes() {
  tr -d '{}" \n\t' <"$here/search-attributes.json" | tr ',' '\n' | sed '/^$/d'
}

register_namespace() {
  if ! "$cli" operator namespace describe --address "$address" --namespace "$namespace" >/dev/null 2>&1; then
    "$cli" operator namespace create --address "$address" --namespace "$namespace" \
      --retention "${TEMPORAL_NAMESPACE_RETENTION:-72h}" >/dev/null
    say "namespace $namespace created"
  fi
  # Adding an attribute that exists with the same type is a no-op on the server, so every start may ask again.
  args=""
  query=""
  for pair in $(search_attributes); do
    name=${pair%%:*} type=${pair#*:}
    args="$args --name $name --type $type"
    query="${query:+$query AND }$name = 'readiness-probe'"
  done
  # A namespace just created is unknown to the operator service until its namespace cache refreshes (a few
  # seconds): retry until the attributes are accepted.
  i=0
  # shellcheck disable=SC2086 # the names and types are single words
  until "$cli" operator search-attribute create --address "$address" --namespace "$namespace" $args >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -le 120 ] || { say "the server still refuses the search attributes after 60s"; exit 1; }
    sleep 0.5
  done
  # The frontend learns new attributes from its namespace cache, refreshed every few seconds: until then a
  # workflow started with them is rejected. A visibility query naming them passes only once they are known.
  i=0
  until "$cli" workflow list --address "$address" --namespace "$namespace" --query "$query" --limit 1 >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -le 120 ] || { say "the frontend still rejects the search attributes after 60s"; exit 1; }
    sleep 0.5
  done
  say "namespace $namespace: search attributes registered"
}

wait_for_frontend() {
  i=0
  until "$cli" operator cluster health --address "$address" >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -le 240 ] || { say "no Temporal frontend at $address after 120s"; exit 1; }
    sleep 0.5
  done
}

case "${1:-}" in
  schema)
    setup_store "${TEMPORAL_PG_DB:-temporal}" temporal
    setup_store "${TEMPORAL_PG_VISIBILITY_DB:-temporal_visibility}" visibility
    ;;
  drop)
    sql --database "${TEMPORAL_PG_DB:-temporal}" drop-database --force
    sql --database "${TEMPORAL_PG_VISIBILITY_DB:-temporal_visibility}" drop-database --force
    ;;
  namespace)
    wait_for_frontend
    register_namespace
    ;;
  *)
    echo "usage: $0 schema|drop|namespace" >&2
    exit 2
    ;;
esac
