#!/usr/bin/env bash
# Builds the v1 and v2 variants and copies each production output to builds/v1 and builds/v2.
set -euo pipefail
cd "$(dirname "$0")"
export NG_CLI_ANALYTICS=false

npm ci

for v in 1 2; do
  APP_VERSION="$v" node scripts/set-version.mjs
  npx ng build --configuration production
  rm -rf "builds/v$v"
  mkdir -p builds
  cp -a dist/app/browser "builds/v$v"
done
# Leave the working tree's generated variant files at v1.
APP_VERSION=1 node scripts/set-version.mjs
