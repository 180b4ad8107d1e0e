#!/usr/bin/env bash
# A real boot: the aarch64 server on a Linux kernel under qemu-system-aarch64,
# started the way a router starts it, serving IMAP to this machine.
#
#   bash tests/system/boot_aarch64.sh build/aarch64/platforms/posix/tinyimapd
#
# Builds an initramfs around Debian's arm64 kernel (linux-image-*-arm64,
# fetched with `apt-get download` and unpacked, never installed): a static
# busybox (busybox-static:arm64, likewise), the given cross-built tinyimapd
# with the shared libraries it needs (from the cross toolchain and the arm64
# libmbedtls), the kernel modules for virtio networking, a configuration,
# a passwd file and an /init script. Boots it with `-M virt -cpu cortex-a53
# -m 64`, user-mode networking and host forwards on 127.0.0.1; the init
# script brings up the network and syslogd, starts the server detached (so
# it logs to syslog, shown on the console) under an unset host name "(none)"
# (so the self-signed certificate falls back to "tinyimapd"), and prints the
# free memory and the server's RSS every 2 s. tests/system/imap_client.py
# then runs the sessions and the 50 clients and prints what the guest says.
#
# Downloads and the unpacked kernel are kept in $SYSTEM_CACHE (default
# build/system/cache). Needs: qemu-system-arm, cpio, python3, apt with the
# arm64 architecture added (tests/install_deps.sh does all of it).
# Environment: CLIENTS=50, BOOT_TIMEOUT=180 (seconds to the first greeting).
set -euo pipefail

server=$(realpath "${1:?usage: boot_aarch64.sh TINYIMAPD_AARCH64_BINARY}")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${SYSTEM_CACHE:-$root/build/system/cache}
clients=${CLIENTS:-50}
started=$(date +%s)
step() { printf 'boot_aarch64: [%3ss] %s\n' "$(( $(date +%s) - started ))" "$*"; }
die() { printf 'boot_aarch64: FAIL: %s\n' "$*" >&2; exit 1; }

readonly triplet=aarch64-linux-gnu
file "$server" | grep -q 'ARM aarch64' || die "$server is not an aarch64 program"
command -v qemu-system-aarch64 >/dev/null || die "qemu-system-aarch64 missing (apt-get install qemu-system-arm)"
command -v cpio >/dev/null || die "cpio missing"

# --- the kernel and busybox, downloaded once ---------------------------------
mkdir -p "$cache/downloads"
kernel_pkg=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
  sed -n 's/^ *Depends: \(linux-image-[^:]*\).*/\1/p' | head -1)
[[ -n $kernel_pkg ]] || die "no linux-image-arm64 in apt's lists (dpkg --add-architecture arm64; apt-get update)"
download() {  # download <package>: its .deb in the cache, fetched if missing
  local deb
  deb=$(find "$cache/downloads" -name "${1}_*_arm64.deb" | head -1)
  if [[ -z $deb ]]; then
    step "apt-get download $1:arm64" >&2
    (cd "$cache/downloads" && apt-get download "$1:arm64" >/dev/null 2>&1) ||
      die "apt-get download $1:arm64 failed"
    deb=$(find "$cache/downloads" -name "${1}_*_arm64.deb" | head -1)
  fi
  echo "$deb"
}
kernel_deb=$(download "$kernel_pkg")
busybox_deb=$(download busybox-static)

kernel_dir=$cache/$kernel_pkg
if [[ ! -f $kernel_dir/done ]]; then
  step "unpacking $(basename "$kernel_deb")"
  rm -rf "$kernel_dir" "$cache/unpack"
  mkdir -p "$kernel_dir" "$cache/unpack"
  dpkg-deb --fsys-tarfile "$kernel_deb" |
    tar -x -C "$cache/unpack" --wildcards './boot/vmlinuz-*' './lib/modules/*/kernel/drivers/net/*' \
      './lib/modules/*/kernel/drivers/virtio/*' './lib/modules/*/kernel/net/core/*'
  cp "$cache"/unpack/boot/vmlinuz-* "$kernel_dir/vmlinuz"
  # virtio-net over PCI and what they depend on, in load order (the .ko's
  # own "depends=" field; the package has no modules.dep).
  python3 - "$cache"/unpack/lib/modules/*/kernel "$kernel_dir" virtio_pci virtio_net <<'PY'
import os, re, shutil, sys
tree, out, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
files = {}
for d, _, names in os.walk(tree):
    for n in names:
        if n.endswith(".ko"):
            files[n[:-3]] = os.path.join(d, n)
order = []
def add(name):
    if name in order:
        return
    data = open(files[name], "rb").read()
    for dep in b"".join(re.findall(rb"depends=([^\0]*)", data)).decode().split(","):
        if dep:
            add(dep)
    order.append(name)
for name in wanted:
    add(name)
os.makedirs(os.path.join(out, "modules"), exist_ok=True)
for name in order:
    shutil.copy(files[name], os.path.join(out, "modules", name + ".ko"))
open(os.path.join(out, "modules", "order"), "w").write("\n".join(order) + "\n")
PY
  rm -rf "$cache/unpack"
  touch "$kernel_dir/done"
fi

# --- the initramfs -----------------------------------------------------------
work=$cache/run
rm -rf "$work"
mkdir -p "$work"/initramfs/{bin,sbin,usr/bin,usr/sbin,lib/modules,etc,proc,sys,dev,tmp,var/log,srv/mail}
fs=$work/initramfs
dpkg-deb --fsys-tarfile "$busybox_deb" | tar -x -C "$work" ./bin/busybox
mv "$work/bin/busybox" "$fs/bin/busybox"
ln -s busybox "$fs/bin/sh"   # for /init's #!; the other applets at boot
cp "$server" "$fs/usr/sbin/tinyimapd"
cp "$kernel_dir"/modules/*.ko "$kernel_dir/modules/order" "$fs/lib/modules/"

# The shared libraries, found where the cross toolchain and the arm64
# packages keep them, NEEDED by NEEDED.
lib_dirs=("/usr/$triplet/lib" "/usr/lib/$triplet" "/lib/$triplet")
copy_libs() {
  local needed lib dir found
  needed=$(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  for lib in $needed; do
    [[ -e $fs/lib/$lib ]] && continue
    found=
    for dir in "${lib_dirs[@]}"; do
      if [[ -e $dir/$lib ]]; then found=$dir/$lib; break; fi
    done
    [[ -n $found ]] || die "$lib (needed by $(basename "$1")) not found in ${lib_dirs[*]}"
    cp -L "$found" "$fs/lib/$lib"
    copy_libs "$fs/lib/$lib"
  done
}
copy_libs "$server"
interp=$(readelf -l "$server" | sed -n 's/.*interpreter: \(.*\)\]/\1/p')
mkdir -p "$fs$(dirname "$interp")"
[[ -e $fs$interp ]] || cp -L "/usr/$triplet/lib/$(basename "$interp")" "$fs$interp"

password=system-test-secret
cat >"$fs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/:/bin/sh
imap:x:143:143:tinyimapd:/srv:/bin/false
PASSWD
printf 'root:x:0:\nimap:x:143:\n' >"$fs/etc/group"
printf 'passwd: files\ngroup: files\n' >"$fs/etc/nsswitch.conf"
# A hashed line, as a router's administrator would make it.
echo "$password" | qemu-aarch64 -L "$fs" "$fs/usr/sbin/tinyimapd" passwd -u alice >"$fs/etc/tinyimapd.passwd"
grep -q '^alice:{SHA512-CRYPT}' "$fs/etc/tinyimapd.passwd" || die "tinyimapd passwd (under qemu-user) failed"
cat >"$fs/etc/tinyimapd.conf" <<'CONF'
# tests/system: a router's configuration. Every client comes through QEMU's
# user network, so from one address: allow them all.
listen = 0.0.0.0:143
tls_listen = 0.0.0.0:993
mail_dir = /srv/mail
passwd_file = /etc/tinyimapd.passwd
plaintext_auth = yes
# Sized for a 64 MiB machine whose (Debian, generic) kernel leaves 35 MiB:
# the 50 clients and a few more; about 100 KiB a slot with TLS.
max_clients = 56
max_clients_per_address = 56
fetch_cache_kib = 64
user = imap
group = imap
CONF
cat >"$fs/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /lib/modules/order); do insmod "/lib/modules/$m.ko" || echo "guest: insmod $m failed"; done
ifconfig lo 127.0.0.1 up
ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up && route add default gw 10.0.2.2
chown imap:imap /srv/mail
chmod 0640 /etc/tinyimapd.passwd && chgrp imap /etc/tinyimapd.passwd
syslogd -O /dev/console
# With 35 MiB left by the kernel, the page allocator's watermark boost (2 MiB
# on a fragmentation event) is enough to call the OOM killer while 2.7 MiB
# are free (seen here: an order-0 page for poll()); small routers turn it off.
echo 0 >/proc/sys/vm/watermark_boost_factor
echo "guest: host name '$(hostname)', $(awk '/MemTotal/ {print $2}' /proc/meminfo) kB of memory"
/usr/sbin/tinyimapd --config /etc/tinyimapd.conf
echo "guest: tinyimapd started (exit $?)"
n=0
while :; do
  pid=$(pidof tinyimapd)
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)
  conns=$(awk '$4 == "01" && ($2 ~ /:008F$/ || $2 ~ /:03E1$/)' /proc/net/tcp | wc -l)
  echo "STATS seq=$n memfree_kb=$(awk '/^MemFree/ {print $2}' /proc/meminfo)" \
    "memavailable_kb=$(awk '/^MemAvailable/ {print $2}' /proc/meminfo)" \
    "slab_kb=$(awk '/^Slab/ {print $2}' /proc/meminfo)" \
    "server_rss_kb=${rss:-none} imap_connections=$conns"
  n=$((n + 1))
  sleep 2
done
INIT
chmod +x "$fs/init"
(cd "$fs" && find . | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$work/initramfs.cpio.gz"
step "initramfs: $(du -k "$work/initramfs.cpio.gz" | cut -f1) KiB ($(find "$fs/lib" -maxdepth 1 -name '*.so*' | wc -l) libraries, $(wc -l <"$fs/lib/modules/order") modules)"

# --- boot and talk -----------------------------------------------------------
read -r plain_port tls_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
serial=$work/serial.log
: >"$serial"
step "booting $(basename "$kernel_dir"): qemu-system-aarch64 -M virt -cpu cortex-a53 -m 64, IMAP on 127.0.0.1:$plain_port, TLS on 127.0.0.1:$tls_port"
qemu-system-aarch64 -M virt -cpu cortex-a53 -m 64 -smp 1 \
  -kernel "$kernel_dir/vmlinuz" -initrd "$work/initramfs.cpio.gz" \
  -append "console=ttyAMA0 rdinit=/init quiet loglevel=5 panic=-1" \
  -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$plain_port-:143,hostfwd=tcp:127.0.0.1:$tls_port-:993" \
  -device virtio-net-pci,netdev=net0,romfile= \
  -display none -monitor none -serial "file:$serial" -no-reboot &
qemu_pid=$!
trap 'kill $qemu_pid 2>/dev/null; wait $qemu_pid 2>/dev/null' EXIT

status=0
python3 "$here/imap_client.py" --plain-port "$plain_port" --tls-port "$tls_port" \
  --user alice --password "$password" --clients "$clients" --serial-log "$serial" \
  --qemu-pid "$qemu_pid" \
  --boot-timeout "${BOOT_TIMEOUT:-180}" || status=$?

echo '--- guest console (without the STATS and login lines)'
grep -v -e '^STATS ' -e 'login: user=' "$serial" | tr -d '\r' | tail -n 40
echo '---'
(( status == 0 )) || die "IMAP against the guest failed (above)"
grep -q "generated a self-signed TLS certificate for tinyimapd" "$serial" ||
  die "the guest's server did not fall back to 'tinyimapd' for the certificate"
grep -q "tinyimapd.*started" "$serial" || die "no start line from the server in the guest's syslog"
step "ok"
