#!/usr/bin/env bash
# `npm test`: installs what is missing, then lint, type check and every mocha test against the real
# PostgreSQL and a real Temporal dev server (started by the tests themselves, see test/support/temporal.ts).
# Ends with the line `tests: N passed, N failed`.
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
passed=$((passed + 3 - checks_failed))
failed=$((failed + checks_failed))
echo "tests: $passed passed, $failed failed"
[ "$status" = 0 ] && [ "$checks_failed" = 0 ]
