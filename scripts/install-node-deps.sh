#!/usr/bin/env bash
# Installs the Node packages the MCP tests use (tests/mcp/package-lock.json) with `npm ci`,
# when tests/mcp/node_modules is missing or was installed from another lockfile. ctest runs it
# as the setup fixture of the mcp.* tests; it is quick and silent when nothing changed.
set -euo pipefail

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/mcp"
stamp="$dir/node_modules/.countersign-installed"

command -v npm >/dev/null || { echo "install-node-deps: npm is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }

wanted="$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi

echo "install-node-deps: npm ci in $dir"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
echo "$wanted" > "$stamp"
