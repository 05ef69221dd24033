#!/usr/bin/env bash
# `npm run bench [name]`: runs benchmarks in bench/ (default: all) against real PostgreSQL and Temporal.
# BENCH_TEMPORAL=postgres runs them against the Temporal server as production runs it (PostgreSQL persistence,
# scripts/temporal-server.sh) instead of the dev server (SQLite, scripts/temporal.sh): run both to compare.
. "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/setup.sh" --for-tests
ensure_node
export PATH="$ROOT/node_modules/.bin:$PATH"
cd "$ROOT"
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(core webhooks linear-sync)
# The webhooks benchmark's BullMQ baseline needs Redis on 127.0.0.1:6379.
if [[ " ${names[*]} " == *" webhooks "* ]] && ! (echo >/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
  command -v redis-server >/dev/null || { log "installing redis-server for the BullMQ baseline"; apt_install redis-server; }
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  wait_for_port 127.0.0.1 6379 10
fi
# The Slack benchmark needs nothing more: its Slack is the local stand-in (test/fakes/slack), in its own process.
# The email benchmark starts Dovecot, OpenSMTPD and dnsmasq on ports of its own (bench/email.ts); installing them
# (Debian's packages, once) is done here, where the other services' installs are.
if [[ " ${names[*]} " == *" email "* ]]; then
  bash "$ROOT/scripts/mail-services.sh" install
fi
export BENCH_TEMPORAL="${BENCH_TEMPORAL:-dev}"
case "$BENCH_TEMPORAL" in
  dev | postgres) ;;
  *) log "BENCH_TEMPORAL must be dev or postgres, not $BENCH_TEMPORAL"; exit 2 ;;
esac
for name in "${names[@]}"; do
  log "bench/$name.ts (Temporal: $BENCH_TEMPORAL)"
  node "bench/$name.ts"
done
