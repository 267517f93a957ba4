#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, if any is missing.
# Idempotent and quiet when everything is there; needs root for apt-get.
set -euo pipefail

packages=(ca-certificates)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "installing test dependencies: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
