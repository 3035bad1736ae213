#!/usr/bin/env bash
# `deno task sandbox [ARGS]`, the README's main command: installs what is missing
# (scripts/setup.sh), builds dist/ (deno task compile-ready) when the sources are newer
# than the bundle, then runs `dist/ovn-k8s sandbox up ARGS` (or `sandbox VERB ARGS` when
# ARGS start with status, exec or down). Needs root.
# compile-ready is run as `deno run` (what the task runs): inside `deno task`, a nested
# task's bare `deno` resolves to the npm package's node shim, which fails here.
# Remove it again with: deno task sandbox down   (or dist/ovn-k8s sandbox down)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DENO_NO_UPDATE_CHECK=1
if [ ! -x dist/ovn-k8s ] || [ ! -f dist/ovn-k8s.js ] ||
   [ -n "$(find main.ts deno.json deno.lock src scripts/compile_ready.ts scripts/permissions.ts \
            -newer dist/ovn-k8s.js -print -quit 2>/dev/null)" ]; then
  echo "sandbox: building dist/ovn-k8s (compile-ready)" >&2
  node_modules/.bin/deno run --allow-all scripts/compile_ready.ts
fi
case "${1:-}" in
  up|status|exec|down) exec dist/ovn-k8s sandbox "$@" ;;
  *) exec dist/ovn-k8s sandbox up "$@" ;;
esac
