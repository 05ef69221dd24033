#!/usr/bin/env bash
# `npm test`: installs what is missing, then lint, type check and every mocha test against the real
# PostgreSQL and a real Temporal dev server (started by the tests themselves, see test/support/temporal.ts).
# A full run (no arguments) then runs the core end-to-end files again against the Temporal server as production
# runs it, on PostgreSQL (TEST_TEMPORAL_SERVER=postgres, scripts/temporal-server.sh).
# Ends with the line `tests: N passed, N failed`, counting both runs.
. "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/setup.sh" --for-tests
ensure_node
export PATH="$ROOT/node_modules/.bin:$PATH"
cd "$ROOT"
checks_failed=0
log "biome check"
biome check . || checks_failed=$((checks_failed + 1))
log "tsc --noEmit"
tsc --noEmit -p tsconfig.json || checks_failed=$((checks_failed + 1))
tsc --noEmit -p packages/dashboard/tsconfig.json || checks_failed=$((checks_failed + 1))
# The attachment and email tests' servers on their test ports (test/support/file-services.ts, mail-services.ts),
# started here so a failure to start shows up once, before the tests, rather than in each file that needs them.
log "starting the file and mail services for the tests"
node --input-type=module -e "await (await import('./test/support/file-services.ts')).ensureFileServices()"
node --input-type=module -e "await (await import('./test/support/mail-services.ts')).ensureMailServices()"
log "mocha"
rm -f "$DATA/test-summary"
set +e
mocha --reporter "$ROOT/test/support/summary-reporter.cjs" "$@"
status=$?
set -e
# A run that crashed before its end wrote no summary: count it as one failure.
summary="$(cat "$DATA/test-summary" 2>/dev/null || echo '0 1')"
passed=${summary% *}
failed=${summary#* }

# Outbox → workflows, SLA, webhook delivery and the Temporal outage, on the PostgreSQL-backed server.
postgres_status=0
if [ $# = 0 ]; then
  log "mocha against the Temporal server on PostgreSQL"
  rm -f "$DATA/test-summary"
  set +e
  # --no-config: .mocharc.json's spec would add every other test file to the ones named here.
  TEST_TEMPORAL_SERVER=postgres mocha --no-config --require test/support/root-hooks.ts --timeout 30000 --exit \
    --reporter "$ROOT/test/support/summary-reporter.cjs" \
    outbox/relay.test.ts workflows/ticket.test.ts workflows/sla.test.ts activities/db/sla.test.ts \
    test/webhooks-durability.test.ts activities/webhooks/delivery.test.ts test/outbox-outage.test.ts
  postgres_status=$?
  set -e
  summary="$(cat "$DATA/test-summary" 2>/dev/null || echo '0 1')"
  passed=$((passed + ${summary% *}))
  failed=$((failed + ${summary#* }))
fi

passed=$((passed + 3 - checks_failed))
failed=$((failed + checks_failed))
echo "tests: $passed passed, $failed failed"
[ "$status" = 0 ] && [ "$postgres_status" = 0 ] && [ "$checks_failed" = 0 ]
