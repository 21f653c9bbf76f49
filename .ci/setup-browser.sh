#!/usr/bin/env bash
# Installs Debian's Chromium for the webview browser tests (playwright-core
# drives it; `npx playwright install` cannot download a browser here).
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
echo "== $(chromium --version)"
