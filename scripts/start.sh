#!/usr/bin/env bash
# `npm start`: installs what is missing, starts Temporal, migrates, seeds the demo organisation,
# builds the dashboard and runs the API (which serves the dashboard) and the worker (which runs the outbox relay).
. "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/setup.sh"
ensure_node
export PATH="$ROOT/node_modules/.bin:$PATH"
ensure_env_file
# The ports the scripts choose decide where the processes connect, so a second checkout only sets the ports
# (TEMPORAL_PORT, TEMPORAL_UI_PORT, PORT, WORKER_METRICS_PORT) and DATABASE_URL to run beside the first.
export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:${TEMPORAL_PORT:-7233}}"
export TEMPORAL_UI_ORIGIN="${TEMPORAL_UI_ORIGIN:-http://localhost:${TEMPORAL_UI_PORT:-8233}}"
bash "$ROOT/scripts/temporal.sh" start
# clamd scans every attachment before it is served (CLAMD_PORT, default 3310); a remote CLAMD_HOST is the operator's.
case "${CLAMD_HOST:-127.0.0.1}" in
  127.0.0.1 | localhost) bash "$ROOT/scripts/file-services.sh" start clamd ;;
esac
node "$ROOT/scripts/migrate.ts"
node "$ROOT/scripts/seed.ts"
log "building the dashboard"
(cd "$ROOT/packages/dashboard" && vite build --logLevel warn)

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
# V8 flags and the worker's CPU priority (background work yields to requests): worker/node-flags.ts
nice -n 10 node --max-semi-space-size=16 "$ROOT/worker/main.ts" & pids+=($!)
node --max-semi-space-size=2 "$ROOT/api/server.ts" & pids+=($!)
log "dashboard and API: ${PUBLIC_URL:-http://localhost:${PORT:-3000}}  ·  Temporal UI: http://localhost:${TEMPORAL_UI_PORT:-8233}"
# Stop everything when either process exits, so a crash is not hidden behind a half-running stack.
wait -n "${pids[@]}"
