#!/usr/bin/env bash
# The Debian package on this machine, as an administrator would use it:
#
#   bash tests/package/test_deb.sh build/deb/tinyimapd_*.deb
#
# Installs the .deb (dpkg -i), checks what the maintainer scripts made (user,
# mail directory, passwd file), the conffile, the systemd unit (systemd-analyze
# verify) and the man pages; starts the server from the installed files with
# the unit's ExecStart line, as the unit's User (systemd need not run: CI is a
# container), on 127.0.0.1 ports given on the command line; talks IMAP to it
# over STARTTLS and implicit TLS, reloads it with the unit's ExecReload, stops
# it; then `dpkg --purge`s the package and checks that the configuration and
# the user are gone and the mail is not. Needs root; it changes the machine
# (a throwaway CI machine) and undoes that at the end.
set -euo pipefail

deb=${1:?usage: test_deb.sh PACKAGE.deb}
[[ -f $deb ]] || { echo "test_deb: $deb: no such file" >&2; exit 1; }
[[ $EUID -eq 0 ]] || { echo "test_deb: needs root (installs a package)" >&2; exit 1; }
if dpkg-query -W -f='${Status}' tinyimapd 2>/dev/null | grep -q 'install ok'; then
  echo "test_deb: tinyimapd is installed on this machine already; not touching it" >&2
  exit 1
fi

readonly UNIT=/usr/lib/systemd/system/tinyimapd.service
readonly CONF=/etc/tinyimapd/tinyimapd.conf
readonly PASSWD=/etc/tinyimapd/passwd
readonly STATE=/var/lib/tinyimapd
work=$(mktemp -d /tmp/tinyimapd-deb-XXXXXX)
server_pid=
step() { printf 'test_deb: %s\n' "$*"; }
fail() {
  printf 'test_deb: FAIL: %s\n' "$*" >&2
  [[ -f $work/server.log ]] && { echo '--- server log'; cat "$work/server.log"; } >&2
  exit 1
}
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if dpkg-query -W tinyimapd >/dev/null 2>&1; then dpkg --purge tinyimapd >/dev/null 2>&1 || true; fi
  rm -rf "$STATE" "$work"
}
trap cleanup EXIT
started=$(date +%s)

step "dpkg -i $deb"
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i"; }

step "installed files, user, directories"
/usr/sbin/tinyimapd --version | grep -q '^tinyimapd ' || fail "/usr/sbin/tinyimapd --version"
dpkg-query -W -f='${Conffiles}\n' tinyimapd | grep -q "^ $CONF " || fail "$CONF is not a conffile"
entry=$(getent passwd tinyimapd) || fail "no user tinyimapd"
IFS=: read -r _ _ uid _ _ home shell <<<"$entry"
(( uid < 1000 )) || fail "tinyimapd is not a system user (uid $uid)"
[[ $home == "$STATE" && $shell == */nologin ]] || fail "user tinyimapd: home $home, shell $shell"
getent group tinyimapd >/dev/null || fail "no group tinyimapd"
[[ $(stat -c '%U:%G %a' "$STATE/mail") == "tinyimapd:tinyimapd 750" ]] ||
  fail "$STATE/mail: $(stat -c '%U:%G %a' "$STATE/mail")"
[[ $(stat -c '%U:%G %a' "$PASSWD") == "root:tinyimapd 640" ]] ||
  fail "$PASSWD: $(stat -c '%U:%G %a' "$PASSWD")"
/usr/sbin/tinyimapd --check-config --config "$CONF" >"$work/effective.conf" ||
  fail "--check-config rejects $CONF"
grep -qx 'user = tinyimapd' "$work/effective.conf" || fail "$CONF: user is not tinyimapd"

step "systemd unit"
if command -v systemd-analyze >/dev/null; then
  # Offline: checks the syntax, the executables, the directives it knows.
  systemd-analyze verify "$UNIT" >"$work/verify.log" 2>&1 || { cat "$work/verify.log"; fail "systemd-analyze verify"; }
  if grep -i 'tinyimapd' "$work/verify.log"; then fail "systemd-analyze verify complains"; fi
  systemd-analyze security --offline=true "$UNIT" 2>/dev/null | tail -1 || true
else
  fail "systemd-analyze missing (apt-get install systemd)"
fi
# shellcheck disable=SC2016 # $MAINPID is systemd's, literally in the unit
for key in NoNewPrivileges=yes ProtectSystem=strict "ReadWritePaths=$STATE" PrivateTmp=yes \
  ProtectHome=yes 'RestrictAddressFamilies=' 'CapabilityBoundingSet=CAP_NET_BIND_SERVICE' \
  'ExecReload=/bin/kill -HUP $MAINPID' User=tinyimapd; do
  grep -qF "$key" "$UNIT" || fail "$UNIT has no $key"
done

step "man pages"
for page in /usr/share/man/man8/tinyimapd.8 /usr/share/man/man5/tinyimapd.conf.5; do
  [[ -f $page ]] || fail "$page not installed"
  if command -v man >/dev/null; then
    out=$(MANWIDTH=80 man --warnings=w -l "$page" 2>&1 >/dev/null) || fail "man -l $page"
    [[ -z $out ]] || fail "man -l $page warns: $out"
  fi
done

step "users"
echo 'alice-secret' | /usr/sbin/tinyimapd passwd -u alice >>"$PASSWD"

# The unit's own lines: what systemd would run, as whom.
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
exec_reload=$(sed -n 's/^ExecReload=//p' "$UNIT")
run_as=$(sed -n 's/^User=//p' "$UNIT")
read -r plain_port tls_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
step "start: $exec_start (as $run_as, ports $plain_port and $tls_port)"
# shellcheck disable=SC2086 # the unit's line is split as systemd splits it (no quotes in it)
setpriv --reuid="$run_as" --regid="$run_as" --init-groups -- $exec_start \
  --listen="127.0.0.1:$plain_port" --tls-listen="127.0.0.1:$tls_port" >"$work/server.log" 2>&1 &
server_pid=$!

imap() {  # imap <user> <password> <mode>: one session, checked by Python
  python3 - "$plain_port" "$tls_port" "$@" <<'PY'
import imaplib, ssl, sys, time
plain, tls, user, password, mode = int(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
for attempt in range(100):
    try:
        if mode == "implicit":
            m = imaplib.IMAP4_SSL("127.0.0.1", tls, ssl_context=ctx)
        else:
            m = imaplib.IMAP4("127.0.0.1", plain)
            assert "LOGINDISABLED" in m.capabilities, m.capabilities
            m.starttls(ssl_context=ctx)
        break
    except (ConnectionRefusedError, ConnectionResetError):
        time.sleep(0.1)
else:
    sys.exit("no server")
m.login(user, password)
if mode == "starttls":
    msg = b"From: a@example.org\r\nSubject: deb test\r\n\r\nhello from the package test\r\n"
    assert m.append("INBOX", None, None, msg)[0] == "OK"
    assert m.select("INBOX")[0] == "OK"
    typ, data = m.fetch("1", "(BODY[])")
    assert typ == "OK" and data[0][1] == msg, data
    print("  APPEND, SELECT, FETCH over STARTTLS: ok")
else:
    assert m.select("INBOX")[0] == "OK"
    print(f"  LOGIN {user} over implicit TLS: ok")
m.logout()
PY
}
imap alice alice-secret starttls || fail "IMAP session over STARTTLS"
imap alice alice-secret implicit || fail "IMAP session over implicit TLS"
[[ $(stat -c %U "$STATE/mail/.tls/key.pem") == tinyimapd ]] || fail "generated key not the user's"

step "reload: $exec_reload"
echo 'bob-secret' | /usr/sbin/tinyimapd passwd -u bob >>"$PASSWD"
eval "${exec_reload//\$MAINPID/$server_pid}"
for _ in $(seq 50); do grep -q 'reloaded, 2 users' "$work/server.log" && break; sleep 0.1; done
grep -q 'reloaded, 2 users' "$work/server.log" || fail "SIGHUP did not reload the passwd file"
imap bob bob-secret implicit || fail "the user added before the reload cannot log in"

step "stop (SIGTERM)"
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=
(( status == 0 )) || fail "server exit status $status after SIGTERM"
grep -q 'shutting down' "$work/server.log" || fail "no shutdown line in the log"

step "dpkg --purge"
dpkg --purge tinyimapd >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg --purge"; }
[[ ! -e /usr/sbin/tinyimapd ]] || fail "/usr/sbin/tinyimapd left behind"
[[ ! -e /etc/tinyimapd ]] || fail "/etc/tinyimapd left behind: $(ls -A /etc/tinyimapd)"
! getent passwd tinyimapd >/dev/null || fail "user tinyimapd left behind"
! getent group tinyimapd >/dev/null || fail "group tinyimapd left behind"
[[ -d $STATE/mail/alice ]] || fail "the purge removed the mail"
step "ok ($(( $(date +%s) - started ))s)"
