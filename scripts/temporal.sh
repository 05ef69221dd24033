#!/usr/bin/env bash
# Starts the Temporal dev server (SQLite persistence, project search attributes, UI with the codec endpoint)
# unless one already answers. Usage: scripts/temporal.sh [start|stop]
. "$(dirname "$0")/lib.sh"
ensure_node
ensure_temporal
# The API's port, for the UI's codec endpoint (PORT below is Temporal's own).
API_PORT="${PORT:-3000}"
PORT="${TEMPORAL_PORT:-7233}"
UI_PORT="${TEMPORAL_UI_PORT:-8233}"
DB_FILE="${TEMPORAL_DB_FILE:-$DATA/temporal/dev.sqlite}"
PID_FILE="$DATA/temporal/dev-$PORT.pid"
mkdir -p "$(dirname "$DB_FILE")" "$DATA/temporal"

case "${1:-start}" in
  stop)
    [ -f "$PID_FILE" ] && kill "$(cat "$PID_FILE")" 2>/dev/null || true
    rm -f "$PID_FILE"
    exit 0
    ;;
esac

if (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  log "Temporal already answers on 127.0.0.1:$PORT"
  exit 0
fi
args=(server start-dev --ip 127.0.0.1 --port "$PORT" --ui-port "$UI_PORT" --db-filename "$DB_FILE" --log-level warn)
while IFS= read -r attr; do args+=(--search-attribute "$attr"); done < <(
  node -e 'for (const [k, v] of Object.entries(require(process.argv[1]))) console.log(`${k}=${v}`)' "$ROOT/temporal-config/search-attributes.json")
# SQLite tuned for a throwaway local store (temporal-config devServerSqlitePragmas).
while IFS= read -r pragma; do args+=(--sqlite-pragma "$pragma"); done < <(
  node -e 'import(process.argv[1]).then((m) => console.log(m.devServerSqlitePragmas.join("\n")))' "$ROOT/temporal-config/index.ts")
args+=(--ui-codec-endpoint "${PUBLIC_URL:-http://localhost:$API_PORT}/codec")
log "starting Temporal on 127.0.0.1:$PORT (UI http://localhost:$UI_PORT), data in $DB_FILE"
nohup "$TEMPORAL_BIN" "${args[@]}" >"$DATA/temporal/dev-$PORT.log" 2>&1 &
echo $! >"$PID_FILE"
wait_for_port 127.0.0.1 "$PORT" 60
