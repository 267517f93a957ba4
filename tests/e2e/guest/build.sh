#!/usr/bin/env bash
# Builds the end-to-end test guest into a cache folder (first argument,
# default .cache/e2e in the repository root):
#
#   vmlinuz             the kernel of Debian's linux-image-cloud-amd64
#   initramfs.cpio.gz   busybox, dhcpcd and its libraries, the virtio-net
#                       modules, and this folder's init, dhcpcd.conf and
#                       dhcpcd-hook
#
# The kernel package is fetched with apt-get download and unpacked with
# dpkg -x, never installed. Nothing is rebuilt while the inputs (kernel
# version, host binaries, this folder's files) stay the same. Needs the
# packages tests/setup/install-deps.sh installs; safe to run concurrently.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../../../.cache/e2e}
mkdir -p "$out"
out=$(cd "$out" && pwd)

exec 9>"$out/.lock"
flock 9
work=$(mktemp -d "$out/work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The modules virtio-net needs, in load order (the guest's /init insmods
# them in the same order).
modules=(
	drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_legacy_dev
	drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci net/core/failover
	drivers/net/net_failover drivers/net/virtio_net
)

# kernel_package prints the versioned kernel package that
# linux-image-cloud-amd64 depends on.
kernel_package() {
	apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }'
}

pkg=$(kernel_package)
if [[ -z $pkg ]]; then
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	pkg=$(kernel_package)
fi
[[ -n $pkg ]] || { echo "build.sh: apt knows no linux-image-cloud-amd64" >&2; exit 1; }
kver=${pkg#linux-image-}
kdir=$out/kernel-$kver

# fetch_kernel downloads and unpacks the kernel package into $kdir,
# keeping only the kernel image and the modules listed above. A failed
# download is retried once after refreshing apt's package lists.
fetch_kernel() {
	local deb=$work/deb
	mkdir -p "$deb"
	(cd "$deb" && apt-get -q -o APT::Sandbox::User=root download "$pkg") ||
		{ apt-get -o DPkg::Lock::Timeout=600 update -qq &&
			(cd "$deb" && apt-get -q -o APT::Sandbox::User=root download "$pkg"); }
	dpkg -x "$deb"/*.deb "$work/pkg"
	mkdir -p "$work/kernel/modules"
	cp "$work/pkg/boot/vmlinuz-$kver" "$work/kernel/vmlinuz"
	for m in "${modules[@]}"; do
		cp "$work/pkg/lib/modules/$kver/kernel/$m.ko" "$work/kernel/modules/"
	done
	rm -rf "$out"/kernel-*
	mv "$work/kernel" "$kdir"
}

[[ -d $kdir ]] || fetch_kernel

busybox=$(command -v busybox)
dhcpcd=$(command -v dhcpcd)
# The shared libraries dhcpcd needs (libc and the dynamic loader).
mapfile -t libs < <(ldd "$dhcpcd" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
inputs=(
	"$here/build.sh" "$here/init" "$here/dhcpcd.conf" "$here/dhcpcd-hook"
	"$busybox" "$dhcpcd" "${libs[@]}" "$kdir/vmlinuz" "$kdir"/modules/*.ko
)
stamp=$( (echo "$kver" && sha256sum "${inputs[@]}" | awk '{ print $1 }') | sha256sum | awk '{ print $1 }')
if [[ -f $out/initramfs.cpio.gz && -f $out/vmlinuz && "$(cat "$out/stamp" 2>/dev/null)" == "$stamp" ]]; then
	exit 0
fi

root=$work/root
mkdir -p "$root"/{bin,sbin,etc,modules,proc,sys,dev,run,tmp,var/lib/dhcpcd,usr/lib/dhcpcd,usr/bin,usr/sbin}
cp "$busybox" "$root/bin/busybox"
# One symlink per applet, where busybox itself would install it.
"$busybox" --list-full | while read -r applet; do
	[[ -e $root/$applet ]] || ln -s /bin/busybox "$root/$applet"
done
cp "$dhcpcd" "$root/sbin/dhcpcd"
for l in "${libs[@]}"; do
	mkdir -p "$root$(dirname "$l")"
	cp -L "$l" "$root$l"
done
cp "$kdir"/modules/*.ko "$root/modules/"
install -m 0755 "$here/init" "$root/init"
install -m 0755 "$here/dhcpcd-hook" "$root/etc/dhcpcd-hook"
install -m 0644 "$here/dhcpcd.conf" "$root/etc/dhcpcd.conf"
# dhcpcd drops privileges to its own user, chrooted to its home.
printf 'root:x:0:0:root:/:/bin/sh\ndhcpcd:x:100:65534:dhcpcd:/usr/lib/dhcpcd:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

# Fixed times make the archive reproducible.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible -R 0:0) |
	gzip -1 -n >"$work/initramfs.cpio.gz"
cp "$kdir/vmlinuz" "$work/vmlinuz"
mv "$work/initramfs.cpio.gz" "$work/vmlinuz" "$out/"
echo "$stamp" >"$out/stamp"
echo "built e2e guest: kernel $kver, $(du -h "$out/initramfs.cpio.gz" | cut -f1) initramfs in $out"
