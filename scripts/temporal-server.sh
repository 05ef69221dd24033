#!/usr/bin/env bash
# The Temporal server as production runs it: PostgreSQL persistence (this machine's, 127.0.0.1:5432 by default),
# configured by temporal-config/temporal-server.yaml, the file docker-compose.yml uses too. Builds the server and its
# SQL tool once into .tools/bin, creates or updates both schemas, starts the server, registers the namespace and
# the project's search attributes. Logs and the pid file go to .data/temporal-server/.
# Usage: scripts/temporal-server.sh start [--fresh] | stop | status
#   --fresh  drops both databases first (after stopping this port's server): a test run's clean slate
# Settings (README "Configuration"): TEMPORAL_SERVER_PORT (frontend, default 7234; the other ports follow it),
# TEMPORAL_PG_HOST, TEMPORAL_PG_PORT, TEMPORAL_PG_USER, TEMPORAL_PG_PASSWORD, TEMPORAL_PG_DB,
# TEMPORAL_PG_VISIBILITY_DB, TEMPORAL_NAMESPACE.
. "$(dirname "$0")/lib.sh"
PORT="${TEMPORAL_SERVER_PORT:-7234}"
HOST="${TEMPORAL_SERVER_BIND_IP:-127.0.0.1}"
export TEMPORAL_SERVER_PORT="$PORT"
RUN_DIR="$DATA/temporal-server"
PID_FILE="$RUN_DIR/$PORT.pid"
LOG_FILE="$RUN_DIR/$PORT.log"
SETUP="$ROOT/temporal-config/setup-temporal.sh"
mkdir -p "$RUN_DIR"

running_pid() {
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null)" || return 1
  kill -0 "$pid" 2>/dev/null && echo "$pid"
}

stop_server() {
  local pid i
  if pid="$(running_pid)"; then
    kill -TERM "$pid" 2>/dev/null || true
    # A graceful stop drains the services; give it some seconds, as the outage test's restart waits on it.
    for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    log "stopped the Temporal server on $HOST:$PORT"
  fi
  rm -f "$PID_FILE"
}

case "${1:-start}" in
  stop)
    stop_server
    exit 0
    ;;
  status)
    if pid="$(running_pid)"; then echo "running (pid $pid) on $HOST:$PORT"; else echo "stopped"; exit 1; fi
    exit 0
    ;;
  start) ;;
  *)
    echo "usage: $0 start [--fresh] | stop | status" >&2
    exit 2
    ;;
esac

ensure_node
ensure_postgres
ensure_temporal
ensure_temporal_server
export TEMPORAL_SQL_TOOL="$TEMPORAL_SQL_TOOL_BIN" TEMPORAL_CLI="$TEMPORAL_BIN" TEMPORAL_SCHEMA_DIR
# This server, whatever TEMPORAL_ADDRESS the caller's clients use.
export TEMPORAL_ADDRESS="$HOST:$PORT"

if [ "${2:-}" = "--fresh" ]; then
  stop_server
  sh "$SETUP" drop >>"$LOG_FILE" 2>&1
fi
if running_pid >/dev/null; then
  log "the Temporal server already runs on $HOST:$PORT"
  exit 0
fi
if (echo >"/dev/tcp/$HOST/$PORT") 2>/dev/null; then
  log "port $PORT is taken by another process: set TEMPORAL_SERVER_PORT to a free port"
  exit 1
fi

sh "$SETUP" schema >>"$LOG_FILE" 2>&1 || { log "schema setup failed, see $LOG_FILE"; tail -20 "$LOG_FILE" >&2; exit 1; }
log "starting the Temporal server (PostgreSQL ${TEMPORAL_PG_HOST:-127.0.0.1}:${TEMPORAL_PG_PORT:-5432}, databases ${TEMPORAL_PG_DB:-temporal} and ${TEMPORAL_PG_VISIBILITY_DB:-temporal_visibility}) on $HOST:$PORT, log in $LOG_FILE"
# setsid: the server outlives this script and whoever ran it, and a Ctrl-C meant for them does not reach it.
setsid nohup "$TEMPORAL_SERVER_BIN" --root "$ROOT" --config temporal-config --env temporal-server --allow-no-auth start \
  >>"$LOG_FILE" 2>&1 </dev/null &
echo $! >"$PID_FILE"
for ((i = 0; i < 1200; i++)); do
  (echo >"/dev/tcp/$HOST/$PORT") 2>/dev/null && break
  running_pid >/dev/null || { log "the Temporal server exited, see $LOG_FILE"; tail -20 "$LOG_FILE" >&2; exit 1; }
  sleep 0.1
done
wait_for_port "$HOST" "$PORT" 1
sh "$SETUP" namespace >>"$LOG_FILE" 2>&1 || { log "namespace setup failed, see $LOG_FILE"; tail -20 "$LOG_FILE" >&2; exit 1; }
# Whoever took the port between the check above and the server's start would have answered in its place.
running_pid >/dev/null || { log "the Temporal server exited, see $LOG_FILE"; tail -20 "$LOG_FILE" >&2; exit 1; }
log "Temporal server ready on $HOST:$PORT"
