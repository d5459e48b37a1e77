#!/usr/bin/env bash
# Builds the two committed variants: builds/v1 and builds/v2 (Vite's dist/, incl. dist/.vite/).
set -euo pipefail
cd "$(dirname "$0")"

npm ci

for v in 1 2; do
  rm -rf dist "builds/v$v"
  VITE_APP_VERSION="$v" npx vite build
  mkdir -p "builds/v$v"
  cp -a dist/. "builds/v$v/"
done
rm -rf dist
