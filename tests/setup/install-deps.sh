#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, if any is missing.
# Idempotent and quiet when everything is there; needs root for apt-get.
set -euo pipefail

# The real-guest tier (tests/e2e) needs QEMU, and busybox, dhcpcd, cpio
# and gzip for its initramfs; tests/e2e/guest/build.sh fetches the guest
# kernel package itself. tests/dpdk needs dpdk-testpmd, which only
# dpdk-dev has; it brings every DPDK PMD (virtio_user and pcap among them).
# The uplink tests (tests/uplink, tests/e2e) build network namespaces and
# veth pairs with iproute2 and drop capabilities with util-linux's setpriv.
packages=(ca-certificates qemu-system-x86 busybox-static dhcpcd-base cpio gzip dpdk-dev iproute2 util-linux)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "installing test dependencies: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Wait for another apt run (a parallel test setup) instead of failing.
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
fi
