#!/usr/bin/env bash
# Builds the WordPress plugin as a site installs it: integrations/wordpress/kontingent
# with the PHP client inside (lib/client/) and the licenses, in target/wordpress/kontingent,
# and target/wordpress/kontingent.zip when `zip` is installed.
# Usage: scripts/package-wordpress.sh   (prints the plugin directory)
set -euo pipefail
cd "$(dirname "$0")/.."
out=target/wordpress
rm -rf "$out/kontingent" "$out/kontingent.zip"
mkdir -p "$out"
cp -r integrations/wordpress/kontingent "$out/kontingent"
mkdir -p "$out/kontingent/lib"
cp -r integrations/php/src "$out/kontingent/lib/client"
cp LICENSE-MIT LICENSE-APACHE "$out/kontingent/"
if command -v zip >/dev/null 2>&1; then
  (cd "$out" && zip -qr kontingent.zip kontingent)
fi
echo "$PWD/$out/kontingent"
