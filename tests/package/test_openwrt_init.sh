#!/usr/bin/env bash
# The OpenWrt init script (platforms/openwrt/tinyimapd/files/tinyimapd.init)
# run under dash and busybox ash with stand-ins for rc.common, functions.sh
# (UCI) and procd.sh (tests/package/openwrt/), for sample UCI files: the
# shipped default, a custom one, a disabled one, and bad values. Checks the
# command line procd would run, its parameters (respawn, reload signal, jail),
# the configuration file written (read back by `tinyimapd --check-config`)
# and that every bad value stops the start with a message naming it.
#
#   bash tests/package/test_openwrt_init.sh build/host/platforms/posix/tinyimapd
set -uo pipefail

prog=$(realpath "${1:?usage: test_openwrt_init.sh TINYIMAPD_BINARY}")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source_init=$root/platforms/openwrt/tinyimapd/files/tinyimapd.init
default_uci=$root/platforms/openwrt/tinyimapd/files/tinyimapd.config
stubs=$root/tests/package/openwrt
work=$(mktemp -d /tmp/tinyimapd-openwrt-XXXXXX)
trap 'rm -rf "$work"' EXIT
# Installed as /etc/init.d/tinyimapd: procd names the service after the file.
mkdir -p "$work/init.d"
init=$work/init.d/tinyimapd
cp "$source_init" "$init"

shells=(dash)
if command -v busybox >/dev/null; then
  shells+=("busybox ash")
else
  echo "test_openwrt_init: busybox missing: not run under ash (apt-get install busybox)"
fi

failures=0
cases=0
fail() {
  printf 'FAIL [%s] %s: %s\n' "$shell" "$name" "$*"
  failures=$((failures + 1))
}

# Programs the script calls that change the system or log: recorded instead.
mkdir -p "$work/bin"
for tool in logger chown chgrp; do
  # shellcheck disable=SC2016 # expanded by the stand-in, not here
  printf '#!/bin/sh\necho "%s $*" >>"$TOOLS_LOG"\n' "$tool" >"$work/bin/$tool"
  chmod +x "$work/bin/$tool"
done

# run_case <name> <action> <uci file text>: runs the init script; sets
# $dir (the case's root), $out (stderr), $status, $log (procd calls).
run_case() {
  name=$1
  local action=$2 text=$3
  cases=$((cases + 1))
  dir=$work/$cases
  mkdir -p "$dir/config"
  printf '%s\n' "${text//@ROOT@/$dir}" >"$dir/config/tinyimapd"
  : >"$dir/procd.log"
  : >"$dir/tools.log"
  # shellcheck disable=SC2086 # $shell is "dash" or "busybox ash"
  out=$(env PATH="$work/bin:$PATH" UCI_CONFIG_DIR="$dir/config" PROCD_LOG="$dir/procd.log" \
    TOOLS_LOG="$dir/tools.log" TEST_PROG="$prog" TEST_CONF="$dir/var/etc/tinyimapd.conf" \
    $shell "$stubs/rc.common" "$init" "$action" 2>&1)
  status=$?
  log=$(cat "$dir/procd.log")
}

expect_log() {  # a line of the procd log
  grep -qxF -- "$1" <<<"$log" || fail "procd: no '$1' in:"$'\n'"$log"
}
expect_effective() {  # a line of `tinyimapd --check-config` on what procd runs
  local effective
  effective=$("$prog" --check-config --config "$dir/var/etc/tinyimapd.conf" --foreground 2>&1)
  grep -qxF -- "$1" <<<"$effective" || fail "config: no '$1' in:"$'\n'"$effective"
}
expect_refused() {  # no instance, and the message on stderr and in the log
  local message=$1
  [[ $log != *open_instance* ]] || fail "an instance was started"
  grep -qF -- "$message" <<<"$out" || fail "stderr lacks '$message': $out"
  if ! grep -F -- "logger -t tinyimapd -p daemon.err" "$dir/tools.log" | grep -qF -- "$message"; then
    fail "syslog lacks '$message'"
  fi
}

uci_main() {  # a 'main' section with the given option lines, paths in the case's root
  printf "config tinyimapd 'main'\n\toption mail_dir '@ROOT@/mail'\n"
  printf "\toption passwd_file '@ROOT@/etc/passwd'\n"
  printf '\t%s\n' "$@"
}

for shell in "${shells[@]}"; do
  # --- the shipped default, paths moved into the case's root ---------------
  text=$(sed "s|'/srv/tinyimapd/mail'|'@ROOT@/mail'|; s|'/etc/tinyimapd/passwd'|'@ROOT@/etc/passwd'|" \
    "$default_uci")
  run_case "default UCI file" start "$text"
  conf=$dir/var/etc/tinyimapd.conf
  [[ $status -eq 0 ]] || fail "exit status $status: $out"
  expect_log "open_service|tinyimapd|$init"
  expect_log "open_instance"
  expect_log "param|command|$prog|--config|$conf|--foreground"
  expect_log "param|file|$conf"
  expect_log "param|respawn"
  expect_log "param|reload_signal|HUP"
  expect_log "param|stderr|1"
  expect_log "param|no_new_privs|1"
  expect_log "param|limits|nofile=96 96"
  expect_log "jail|tinyimapd|log"
  expect_log "jail_mount|$conf|$dir/etc|/etc/passwd|/etc/group"
  expect_log "jail_mount_rw|$dir/mail"
  expect_log "close_instance"
  expect_log "reload_trigger|tinyimapd"
  expect_log "close_service|set"
  expect_log "start_service 0"
  expect_effective "listen = 0.0.0.0:143"
  expect_effective "tls_listen = 0.0.0.0:993"
  expect_effective "mail_dir = $dir/mail"
  expect_effective "passwd_file = $dir/etc/passwd"
  expect_effective "plaintext_auth = no"
  expect_effective "max_clients = 16"
  expect_effective "user = tinyimapd"
  expect_effective "group = tinyimapd"
  expect_effective "log = stderr"
  grep -qxF "chown tinyimapd:tinyimapd $dir/mail" "$dir/tools.log" || fail "mail_dir not given to the user"
  grep -qxF "chgrp tinyimapd $dir/etc/passwd" "$dir/tools.log" || fail "passwd file not given to the group"
  [[ -d $dir/mail && -f $dir/etc/passwd ]] || fail "mail_dir or passwd file not made"
  [[ $(stat -c %a "$dir/etc/passwd") == 640 ]] || fail "passwd file mode $(stat -c %a "$dir/etc/passwd")"
  # reload: the same file again, so procd keeps the instance and sends HUP.
  cp "$conf" "$work/before.conf"
  : >"$dir/procd.log"
  # shellcheck disable=SC2086 # $shell is "dash" or "busybox ash"
  out=$(env PATH="$work/bin:$PATH" UCI_CONFIG_DIR="$dir/config" PROCD_LOG="$dir/procd.log" \
    TOOLS_LOG="$dir/tools.log" TEST_PROG="$prog" TEST_CONF="$conf" \
    $shell "$stubs/rc.common" "$init" reload 2>&1) || fail "reload: $out"
  name="reload"
  cmp -s "$conf" "$work/before.conf" || fail "reload wrote a different file"
  grep -qxF "param|reload_signal|HUP" "$dir/procd.log" || fail "reload: no reload_signal"

  # --- a custom file: two addresses, other ports, no implicit TLS, no jail --
  run_case "custom UCI file" start "$(uci_main "list address '192.168.1.1'" \
    "list address 'fd00::1'" "option port '1143'" "option tls_port '0'" \
    "option plaintext_auth 'yes'" "option max_clients '8'" "option max_append_size '10m'" \
    "option tls_cert '/etc/ssl/imap.pem'" "option tls_key '/etc/ssl/imap.key'" \
    "option quota_storage_mb '512'" "option user 'mail'" "option jail '0'")"
  [[ $status -eq 0 ]] || fail "exit status $status: $out"
  expect_log "param|limits|nofile=80 80"
  [[ $log != *jail* ]] || fail "jail '0' still jailed"
  expect_effective "listen = 192.168.1.1:1143"
  expect_effective "listen = [fd00::1]:1143"
  expect_effective 'tls_listen = ""'
  expect_effective "plaintext_auth = yes"
  expect_effective "max_clients = 8"
  expect_effective "max_append_size = 10485760"
  expect_effective "tls_cert = /etc/ssl/imap.pem"
  expect_effective "quota_storage_mb = 512"
  expect_effective "user = mail"
  expect_effective 'group = ""'

  # --- quotes and backslashes in a value survive ---------------------------
  run_case "quotes in a value" start "$(uci_main "option mailbox_sent 'x'" \
    "option tls_cert '/etc/a \"b\" \\\\c.pem'" "option tls_key '/etc/k#1.pem'")"
  [[ $status -eq 0 ]] || fail "exit status $status: $out"
  expect_effective 'tls_cert = /etc/a "b" \\c.pem'
  expect_effective 'tls_key = "/etc/k#1.pem"'

  # --- disabled -------------------------------------------------------------
  run_case "disabled" start "$(uci_main "option enabled '0'")"
  [[ $status -eq 0 ]] || fail "exit status $status"
  [[ $log != *open_instance* ]] || fail "a disabled service was started"
  grep -qF "disabled" <<<"$out" || fail "no word about being disabled: $out"

  # --- bad values: no instance, a message naming the option -----------------
  run_case "port not a number" start "$(uci_main "option port 'imap'")"
  expect_refused "option port: 'imap' is not a port number"
  run_case "port out of range" start "$(uci_main "option tls_port '99999'")"
  expect_refused "option tls_port: '99999' is not a port number"
  run_case "interface name as address" start "$(uci_main "list address 'lan'")"
  expect_refused "option address: 'lan' is not an IPv4 or IPv6 address"
  run_case "malformed IPv4 address" start "$(uci_main "list address '10.0.0'")"
  expect_refused "expected address:port"
  run_case "negative max_clients" start "$(uci_main "option max_clients '-1'")"
  expect_refused "option max_clients: '-1' is not a number"
  run_case "max_clients 0" start "$(uci_main "option max_clients '0'")"
  expect_refused "max_clients: 0 is out of range 1..100000"
  run_case "size with a bad suffix" start "$(uci_main "option max_append_size '10g'")"
  expect_refused "option max_append_size: '10g' is not a size"
  run_case "idle_timeout below RFC 3501's minimum" start "$(uci_main "option idle_timeout '60'")"
  expect_refused "30 minutes"
  run_case "boolean" start "$(uci_main "option plaintext_auth 'maybe'")"
  expect_refused "option plaintext_auth: 'maybe' is not a boolean"
  run_case "certificate without key" start "$(uci_main "option tls_cert '/etc/c.pem'")"
  expect_refused "tls_cert and tls_key must be given together"
  run_case "both ports off" start "$(uci_main "option port '0'" "option tls_port '0'")"
  expect_refused "nothing to listen on"
  run_case "a line break injecting a key" start "$(uci_main "option log_level 'info
user = root'")"
  expect_refused "option log_level: the value must be one line"
  run_case "unknown log level" start "$(uci_main "option log_level 'chatty'")"
  expect_refused "expected error, warning, info or debug"
done

echo "test_openwrt_init: $cases cases under ${#shells[@]} shells, $failures failures"
(( failures == 0 ))
