#!/usr/bin/env bash
# The accessibility test in headless Chromium. Installs what it needs when it is missing
# (Debian's chromium; playwright-core and axe-core from package-lock.json), reuses the debug
# binary that `cargo test` built (builds it only when there is none), and runs a11y.mjs.
set -euo pipefail
cd "$(dirname "$0")/../.."

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "Chromium is not installed; installing Debian's chromium"
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update && apt-get install -y chromium
  else
    sudo apt-get update && sudo apt-get install -y chromium
  fi
fi

if [ ! -f node_modules/playwright-core/package.json ] || [ ! -f node_modules/axe-core/axe.min.js ]; then
  echo "Installing playwright-core and axe-core (npm ci)"
  npm ci --no-audit --no-fund
fi

if [ ! -x target/debug/lcspr-tracker ]; then
  echo "No debug binary yet; building it"
  cargo build --bin lcspr-tracker
fi

export CHROMIUM
exec node tests/browser/a11y.mjs
