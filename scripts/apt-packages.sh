#!/usr/bin/env bash
# Installs the Debian packages the tests need (.ci/apt-packages) when one is missing, so that
# `./dev test` passes on a fresh machine by itself (it runs this as npm's `pretest`), and
# `.ci/run` needs nothing else. Installing needs root; otherwise it says what to run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mapfile -t packages < <(grep -v '^\s*#' "$root/.ci/apt-packages" | xargs -n1)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "apt-packages: not a Debian system; the tests need the equivalents of: ${packages[*]}" >&2
  exit 0
fi

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$package")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

command="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "apt-packages: the tests need Debian packages that are not installed: ${missing[*]}" >&2
  echo "apt-packages: run as root:  $command" >&2
  exit 1
fi
echo "apt-packages: installing ${missing[*]} (once)" >&2
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
