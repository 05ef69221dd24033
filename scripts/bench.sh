#!/usr/bin/env bash
# `npm run bench [name]`: runs benchmarks in bench/ (default: all) against real PostgreSQL and Temporal.
. "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/setup.sh" --for-tests
ensure_node
export PATH="$ROOT/node_modules/.bin:$PATH"
cd "$ROOT"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(core)
for name in "${names[@]}"; do
  log "bench/$name.ts"
  node "bench/$name.ts"
done
