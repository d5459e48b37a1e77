#!/usr/bin/env bash
# Reproducible v1/v2 production builds of the SvelteKit (adapter-static) app.
set -euo pipefail
cd "$(dirname "$0")"

npm ci

rm -rf builds
mkdir -p builds
for v in v1 v2; do
	rm -rf build .svelte-kit
	VITE_APP_VERSION="$v" npm run build
	cp -R build "builds/$v"
done
rm -rf build
echo "builds written: builds/v1 builds/v2"
