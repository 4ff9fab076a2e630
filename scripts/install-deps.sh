#!/usr/bin/env bash
# Installs, with apt-get, every Debian 12 package countersign needs to build and test.
# Does nothing (and needs no root) when everything is already present.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang clang-14 libclang-rt-14-dev clang-format
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsqlite3-dev sqlite3 libpq-dev libssl-dev libsodium-dev libspdlog-dev libfmt-dev libcli11-dev
  libtomlplusplus-dev libgtest-dev googletest libmimalloc-dev
  libcurl4-openssl-dev python3 openssl python3-cryptography python3-pytest python3-aiosmtpd
  jq  # the README tour (and tests/integration/test_readme_tour.py) reads answers with it
  nodejs
  chromium chromium-driver python3-selenium  # tests/browser: headless Chromium, Selenium
  postgresql-15  # the pg tests' server (tests/testing/pg_cluster.py), started by the tests
  dpkg-dev file  # make package: cpack's DEB generator runs dpkg-shlibdeps and file
)
# The MCP tests' npm (scripts/install-node-deps.sh): Debian packages it apart from nodejs, but
# a nodejs from NodeSource bundles its own, which Debian's npm package would conflict with.
if ! command -v npm >/dev/null; then
  packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq || true
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
