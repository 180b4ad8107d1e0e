#!/usr/bin/env python3
"""The host's side of tests/system/boot_aarch64.sh: IMAP to the booted guest.

Waits for the server's greeting through QEMU's host forward, runs one session
of every kind (plain LOGIN with APPEND, SELECT, FETCH, SEARCH, STORE, EXPUNGE;
STARTTLS; implicit TLS), then logs in N clients one after another (the
forward accepts one connection at a time) and keeps them all open while it
waits for the guest's next "STATS ..." line on the serial console, which it
prints: the guest's free memory and the server's resident size with all of
them connected.
"""
import argparse
import imaplib
import os
import re
import socket
import ssl
import sys
import time


def log(msg):
    print(f"host: {msg}", flush=True)


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def wait_for_greeting(port, timeout, qemu_pid):
    """The forward accepts before the guest listens, then closes: retry."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(qemu_pid):  # a panic reboots, and -no-reboot ends QEMU
            log("QEMU has exited")
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                if s.recv(200).startswith(b"* OK"):
                    return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def full_session(port, user, password):
    m = imaplib.IMAP4("127.0.0.1", port, timeout=60)
    m.login(user, password)
    messages = [
        b"From: one@example.org\r\nSubject: one\r\n\r\nfirst body\r\n",
        b"From: two@example.org\r\nSubject: two\r\n\r\nsecond body, the one to find\r\n",
        b"From: three@example.org\r\nSubject: three\r\n\r\nthird body\r\n",
    ]
    for i, msg in enumerate(messages):
        typ, data = m.append("INBOX", "(\\Seen)" if i == 0 else None, None, msg)
        check(typ == "OK", f"APPEND: {typ} {data}")
    typ, data = m.select("INBOX")
    check(typ == "OK" and data[0] == b"3", f"SELECT: {typ} {data}")
    typ, data = m.fetch("2", "(BODY[])")
    check(typ == "OK" and data[0][1] == messages[1], f"FETCH BODY[]: {data}")
    typ, data = m.fetch("1:*", "(FLAGS)")
    check(typ == "OK" and b"\\Seen" in data[0] and len(data) == 3, f"FETCH FLAGS: {data}")
    typ, data = m.search(None, "BODY", "find")
    check(typ == "OK" and data[0] == b"2", f"SEARCH BODY: {data}")
    typ, data = m.store("1", "+FLAGS", "(\\Deleted)")
    check(typ == "OK", f"STORE: {data}")
    typ, data = m.expunge()
    check(typ == "OK" and data[0] == b"1", f"EXPUNGE: {data}")
    typ, data = m.search(None, "ALL")
    check(typ == "OK" and data[0] == b"1 2", f"SEARCH ALL after EXPUNGE: {data}")
    m.logout()
    log("LOGIN, APPEND x3, SELECT, FETCH, SEARCH, STORE, EXPUNGE: ok")


def starttls_session(port, user, password):
    m = imaplib.IMAP4("127.0.0.1", port, timeout=60)
    check("STARTTLS" in m.capabilities, f"no STARTTLS in {m.capabilities}")
    m.starttls(ssl_context=tls_context())
    m.login(user, password)
    typ, data = m.select("INBOX")
    check(typ == "OK" and data[0] == b"2", f"SELECT over STARTTLS: {data}")
    version = m.sock.version()
    m.logout()
    log(f"STARTTLS ({version}), LOGIN, SELECT: ok")


def implicit_tls_session(port, user, password):
    m = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=tls_context(), timeout=60)
    m.login(user, password)
    typ, data = m.status("INBOX", "(MESSAGES)")
    check(typ == "OK" and b"MESSAGES 2" in data[0], f"STATUS over TLS: {data}")
    m.logout()
    log("implicit TLS, LOGIN, STATUS: ok")


def read_until_tagged(sock, tag):
    buf = b""
    while not re.search(rb"(^|\r\n)" + tag + rb" (OK|NO|BAD)[^\r\n]*\r\n", buf):
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"connection closed, got {buf!r}")
        buf += chunk
    return buf


def next_stats_line(serial_log, after_offset, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(serial_log, "rb") as f:
            f.seek(after_offset)
            for line in f.read().decode(errors="replace").splitlines():
                if line.startswith("STATS "):
                    return line
        time.sleep(0.5)
    return None


def many_clients(port, user, password, n, serial_log):
    with open(serial_log, "rb") as f:
        offset = f.seek(0, 2)
    idle = next_stats_line(serial_log, offset, 30)
    log(f"before them, the guest says: {idle}")
    socks = []
    start = time.monotonic()
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=60)
        greeting = s.recv(4096)
        check(greeting.startswith(b"* OK"), f"client {i}: greeting {greeting!r}")
        s.sendall(b"a LOGIN " + user.encode() + b" " + password.encode() + b"\r\n")
        try:
            reply = read_until_tagged(s, b"a")
        except AssertionError as e:
            raise AssertionError(f"client {i}: LOGIN: {e}")
        check(b"a OK" in reply, f"client {i}: LOGIN {reply!r}")
        socks.append(s)
    elapsed = time.monotonic() - start
    log(f"{n} clients connected and logged in one by one in {elapsed:.1f}s")
    # Every one of them still served: a NOOP each.
    for i, s in enumerate(socks):
        s.sendall(b"b NOOP\r\n")
    for i, s in enumerate(socks):
        check(b"b OK" in read_until_tagged(s, b"b"), f"client {i}: NOOP")
    with open(serial_log, "rb") as f:
        offset = f.seek(0, 2)
    stats = next_stats_line(serial_log, offset, 30)
    check(stats is not None, "no STATS line from the guest")
    log(f"with {n} clients logged in, the guest says: {stats}")
    m = re.search(r"imap_connections=(\d+)", stats)
    check(m and int(m.group(1)) >= n, f"guest sees fewer than {n} connections: {stats}")
    for s in socks:
        s.sendall(b"c LOGOUT\r\n")
        read_until_tagged(s, b"c")
        s.close()
    log(f"{n} clients logged out")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--plain-port", type=int, required=True)
    ap.add_argument("--tls-port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--serial-log", required=True)
    ap.add_argument("--boot-timeout", type=float, default=180)
    ap.add_argument("--qemu-pid", type=int, required=True)
    args = ap.parse_args()

    t0 = time.monotonic()
    if not wait_for_greeting(args.plain_port, args.boot_timeout, args.qemu_pid):
        log(f"no IMAP greeting within {args.boot_timeout:.0f}s")
        return 1
    log(f"greeting after {time.monotonic() - t0:.1f}s")
    try:
        full_session(args.plain_port, args.user, args.password)
        starttls_session(args.plain_port, args.user, args.password)
        implicit_tls_session(args.tls_port, args.user, args.password)
        many_clients(args.plain_port, args.user, args.password, args.clients, args.serial_log)
    except (AssertionError, OSError, imaplib.IMAP4.error) as e:
        log(f"FAIL: {e}")
        with open(args.serial_log, "rb") as f:
            offset = f.seek(0, 2)
        log(f"afterwards the guest says: {next_stats_line(args.serial_log, offset, 5)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
