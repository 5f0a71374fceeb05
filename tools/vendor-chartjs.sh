#!/usr/bin/env bash
# The staff console's chart library, served from our own origin (the CSP allows scripts from 'self'
# only): Chart.js from the npm registry, pinned and checked. Run it to update or to re-create the
# committed copy; nothing is fetched at run time.
set -euo pipefail
VERSION=4.6.1
SHA256=87364cc2b2a76a6684929e7d6b80b18a897794db38400caff1fcf1791c6925d2
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "chart.js@$VERSION" >/dev/null && tar xzf "chart.js-$VERSION.tgz")
echo "$SHA256  $work/package/dist/chart.umd.min.js" | sha256sum -c -
install -m 644 "$work/package/dist/chart.umd.min.js" templates/html/assets/vendor/chart.umd.min.js
install -m 644 "$work/package/LICENSE.md" templates/html/assets/vendor/LICENSE-chart.js.md
