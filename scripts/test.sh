#!/usr/bin/env bash
# The whole test suite: setup, static checks, compile-readiness, unit, integration and
# end-to-end tests. Ends with one line "N passed, N failed" (every static check and
# every test case counted) and exits non-zero when anything failed.
# Usage: scripts/test.sh [--quick]   (--quick: static checks and unit tests only)
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }

export NO_COLOR=1 DENO_NO_UPDATE_CHECK=1 RUST_BACKTRACE=0
DENO=node_modules/.bin/deno
LOGS=.test-logs; rm -rf "$LOGS"; mkdir -p "$LOGS"
passed=0; failed=0; failures=()

check() {   # check NAME CMD...: one static check, counted as one test
  local name=$1; shift
  if "$@" >"$LOGS/$name.log" 2>&1; then passed=$((passed+1)); echo "ok   $name"
  else failed=$((failed+1)); failures+=("$name"); echo "FAIL $name"; tail -n 40 "$LOGS/$name.log"; fi
}

tests() {   # tests NAME ARGS...: a deno test run; its cases are counted
  local name=$1; shift
  local t0=$SECONDS
  $DENO test --allow-all "$@" >"$LOGS/$name.log" 2>&1; local rc=$?
  local line p f
  line=$(grep -E '^(ok|FAILED) \| ' "$LOGS/$name.log" | tail -1)
  p=$(grep -oE '[0-9]+ passed' <<<"$line" | head -1 | cut -d' ' -f1)
  f=$(grep -oE '[0-9]+ failed' <<<"$line" | head -1 | cut -d' ' -f1)
  p=${p:-0}; f=${f:-0}
  if [ $rc -ne 0 ] && [ "$f" = 0 ]; then f=1; fi     # crashed or failed to type-check
  passed=$((passed+p)); failed=$((failed+f))
  echo "$( [ $rc = 0 ] && echo ok || echo FAIL)   $name: $p passed, $f failed ($((SECONDS-t0)) s)"
  if [ $rc -ne 0 ]; then
    failures+=("$name")
    # deno prints " ERRORS " (each failure with its stack) and " FAILURES " (their names)
    # before its summary; show both, the names first, so CI's output says what failed.
    sed -n '/^ FAILURES *$/,/^\(ok\|FAILED\) | /p' "$LOGS/$name.log"
    sed -n '/^ ERRORS *$/,/^ FAILURES *$/p' "$LOGS/$name.log" | head -n 150
    grep -qE '^ (ERRORS|FAILURES) *$' "$LOGS/$name.log" || tail -n 40 "$LOGS/$name.log"
  fi
}

check fmt $DENO fmt --check
check lint $DENO lint
check layers $DENO run --allow-read scripts/check_layers.ts
check typecheck $DENO check main.ts src/ scripts/ bench/ tests/
check compile-ready $DENO run --allow-all scripts/compile_ready.ts

tests unit --parallel main_test.ts src/ scripts/
if [ "${1:-}" != "--quick" ]; then
  [ -n "$(find tests/integration -name '*_test.ts' 2>/dev/null)" ] && tests integration tests/integration/
  [ -n "$(find tests/e2e -name '*_test.ts' 2>/dev/null)" ] && tests e2e tests/e2e/
fi

[ ${#failures[@]} -gt 0 ] && echo "failing: ${failures[*]} (logs in $LOGS/)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
