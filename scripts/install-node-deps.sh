#!/usr/bin/env bash
# Installs the Node packages of one of the project's npm directories from its lockfile with
# `npm ci`: tests/mcp (the MCP tests: the official MCP TypeScript SDK) by default, or the
# directory given, such as clients/typescript (the TypeScript client's compiler and the agent
# frameworks its adapters are tested with). It runs only when node_modules is missing or was
# installed from another lockfile, so ctest can run it as a setup fixture: quick and silent
# when nothing changed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/${1:-tests/mcp}"
stamp="$dir/node_modules/.countersign-installed"

[ -f "$dir/package-lock.json" ] || { echo "install-node-deps: no package-lock.json in $dir" >&2; exit 1; }
command -v npm >/dev/null || { echo "install-node-deps: npm is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }

wanted="$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi

echo "install-node-deps: npm ci in $dir"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
echo "$wanted" > "$stamp"
