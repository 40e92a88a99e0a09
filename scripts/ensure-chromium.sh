#!/usr/bin/env bash
# The Chromium the browser tests drive (test/support/browser.ts, through playwright-core): Debian's
# `chromium` package, never a browser download. Prints its path on stdout (and nothing else there);
# installs the package first when it is missing (about 25 s of apt-get install on CI, plus the
# apt-get update), which needs root. Exit 2 when it is missing and cannot be installed.
#
#   CHROMIUM_PATH="$(bash scripts/ensure-chromium.sh)"
#
# A CHROMIUM_PATH already set to an executable wins (a developer's own build).
set -euo pipefail

if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "$CHROMIUM_PATH" ]; then
  echo "$CHROMIUM_PATH"
  exit 0
fi
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  echo "$CHROMIUM"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "ensure-chromium: $CHROMIUM is missing and installing it needs root: run" >&2
  echo "  sudo apt-get update && sudo apt-get install -y chromium" >&2
  echo "or set CHROMIUM_PATH to a Chromium binary" >&2
  exit 2
fi
if ! command -v apt-get >/dev/null; then
  echo "ensure-chromium: $CHROMIUM is missing and this is no Debian/Ubuntu system (no apt-get): install Chromium and set CHROMIUM_PATH" >&2
  exit 2
fi
echo "ensure-chromium: installing Debian's chromium (apt-get)" >&2
start=$SECONDS
{
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
} >&2
if [ ! -x "$CHROMIUM" ]; then
  echo "ensure-chromium: apt-get installed chromium but $CHROMIUM is still missing" >&2
  exit 2
fi
echo "ensure-chromium: installed in $((SECONDS - start)) s" >&2
echo "$CHROMIUM"
