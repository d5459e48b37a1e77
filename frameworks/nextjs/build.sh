#!/usr/bin/env bash
# Builds the committed static exports from these sources:
#   builds/turbopack-v1, builds/turbopack-v2  (`next build`, Turbopack is the default)
#   builds/webpack-v1,   builds/webpack-v2    (`next build --webpack`)
# The variant comes from NEXT_PUBLIC_APP_VERSION (1 or 2); each build starts from a
# clean .next/ and out/ so no bundler cache is shared between builds.
set -euo pipefail
cd "$(dirname "$0")"
export NEXT_TELEMETRY_DISABLED=1

npm ci

build() { # build BUNDLER VERSION
  local bundler=$1 version=$2 flags=()
  [ "$bundler" = webpack ] && flags=(--webpack)
  rm -rf .next out
  echo "== next build ${flags[*]:-} (NEXT_PUBLIC_APP_VERSION=$version)"
  NEXT_PUBLIC_APP_VERSION=$version ./node_modules/.bin/next build "${flags[@]}"
  rm -rf "builds/$bundler-v$version"
  mkdir -p builds
  cp -a out "builds/$bundler-v$version"
}

for bundler in turbopack webpack; do
  for version in 1 2; do
    build "$bundler" "$version"
  done
done
rm -rf .next out
echo "builds:"; ls builds
