#!/usr/bin/env bash
# Rebuild the committed fixtures: builds/v1 and builds/v2 (copies of Docusaurus' build/).
set -euo pipefail
cd "$(dirname "$0")"
export NO_UPDATE_NOTIFIER=1   # Docusaurus CLI would otherwise ask the npm registry for updates

npm ci --no-audit --no-fund

rm -rf builds
mkdir -p builds
for v in 1 2; do
  # start each variant cold: .docusaurus (generated) and the Rspack persistent cache
  rm -rf build .docusaurus node_modules/.cache
  APP_VERSION="$v" npx docusaurus build --out-dir build
  cp -a build "builds/v$v"
done
rm -rf build .docusaurus node_modules/.cache
echo "done: builds/v1 builds/v2"
