#!/usr/bin/env python3
"""End-to-end tests: the real tinyimapd binary on loopback, driven by real
clients (Python's imaplib, curl, raw sockets).

Usage: test_server.py --binary PATH [--emulator "qemu-aarch64 -L /usr/aarch64-linux-gnu"]

With --emulator the binary runs under qemu-user, so the same conversations
check the cross-compiled server. Each test names the RFC section it checks.
"""
import argparse
import imaplib
import importlib
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BINARY = None
EMULATOR = []
# qemu-user is slow to start a binary; everything waits longer under it.
SLOW = 1.0


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A tinyimapd process with its own temporary mail_dir and passwd file."""

    def __init__(self, extra=(), users=(("alice", "{PLAIN}wonderland"),), plaintext=True,
                 delay_ms=300):
        self.dir = tempfile.mkdtemp(prefix="tinyimapd-e2e-")
        self.passwd = os.path.join(self.dir, "passwd")
        with open(self.passwd, "w") as f:
            f.write("# test users\n")
            for user, pw in users:
                f.write(f"{user}:{pw}:1000:1000::/home/{user}::\n")
        self.port = free_port()
        self.clients = []
        # The server refuses to serve as root: tests running as root (CI)
        # give it an unprivileged user that owns the test directory.
        privilege = []
        if os.geteuid() == 0:
            import pwd
            nobody = pwd.getpwnam("nobody")
            for path in (self.dir, self.passwd):
                os.chown(path, nobody.pw_uid, nobody.pw_gid)
            privilege = ["--user=nobody"]
        self.args = privilege + [
            f"--listen=127.0.0.1:{self.port}",
            f"--mail-dir={os.path.join(self.dir, 'mail')}",
            f"--passwd-file={self.passwd}",
            f"--plaintext-auth={'yes' if plaintext else 'no'}",
            f"--login-fail-delay-ms={delay_ms}",
            "--foreground",
            "--log-level=debug",
        ] + list(extra)
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(EMULATOR + [BINARY] + self.args, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited early: " + self.log_text())
            # Not by connecting: a probe connection would hold a slot.
            if " started: " in self.log_text():
                return
            time.sleep(0.05)
        raise RuntimeError("server did not start: " + self.log_text())

    def log_text(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def imap(self):
        m = CheckedIMAP4("127.0.0.1", self.port, timeout=10 * SLOW)
        self.clients.append(m.sock)
        return m

    def raw(self):
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10 * SLOW)
        self.clients.append(s)
        return RawClient(s)

    def stop(self):
        for c in self.clients:
            c.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class FramingChecker:
    """Checks a server's output stream, as it arrives in any pieces, for IMAP
    framing (RFC 3501 §2.2.2, §4.3, §7, §9); the same rules as
    core/imap/framing.h. Every line ends in CRLF and starts with "*", "+" or
    a tag; a tagged line is OK/NO/BAD; a response code "[...]" closes on its
    line; in data responses parentheses and brackets balance and quoted
    strings close by the end of the line, and "{n}" CRLF is followed by
    exactly n literal bytes. feed() raises AssertionError at the first
    malformed byte."""

    STATUS = {b"OK", b"NO", b"BAD", b"BYE", b"PREAUTH"}
    TAG_EXCLUDED = set(b'(){%*"\\+')

    def __init__(self):
        self.state = "start"
        self.literal = 0
        self.lines = 0
        self.seen = bytearray()  # the current line so far, for messages

    def fail(self, why):
        raise AssertionError("malformed server output after %d lines: %s; line so far %r"
                             % (self.lines, why, bytes(self.seen[-200:])))

    def feed(self, data):
        i = 0
        while i < len(data):
            if self.state == "literal":
                take = min(self.literal, len(data) - i)
                self.literal -= take
                i += take
                if self.literal == 0:
                    self.state = "data"
                continue
            self.byte(data[i])
            i += 1

    def is_tag_char(self, c):
        return 0x20 < c < 0x7F and c not in self.TAG_EXCLUDED

    def word_done(self):
        w = bytes(self.word)
        if self.first == "*" and not self.numbered and w.isdigit():
            self.numbered = True
            self.word = bytearray()
            return
        if not self.numbered and (w in (b"OK", b"NO", b"BAD") or
                                  (self.first == "*" and w in self.STATUS)):
            self.state = "codestart"
            return
        if self.first == "t":
            self.fail("a tagged line that is not OK, NO or BAD")
        if not (w[:1].isalpha() and all(chr(c).isalnum() or c in b"-." for c in w)):
            self.fail("an untagged line without a response name")
        self.state = "data"

    def byte(self, c):
        self.seen.append(c)
        st = self.state
        if c == 0 and st != "literal":
            self.fail("NUL outside a literal")
        if st == "start":
            self.seen = bytearray([c])
            self.depth = []
            self.numbered = False
            self.word = bytearray()
            if c in b"*+":
                self.first = chr(c)
            elif self.is_tag_char(c):
                self.first = "t"
            else:
                self.fail("a line that starts with neither '*', '+' nor a tag")
            self.state = "first"
        elif st == "first":
            if c == 0x20:
                self.state = "text" if self.first == "+" else "word"
            elif c == 0x0D and self.first == "+":
                self.state = "cr"
            elif self.first != "t":
                self.fail("'*' or '+' not followed by SP")
            elif not self.is_tag_char(c):
                self.fail("an invalid character in a tag")
        elif st == "word":
            if c == 0x20:
                if not self.word:
                    self.fail("two spaces in a row after the tag")
                self.word_done()
            elif c == 0x0D:
                self.word_done()
                self.state = "cr"
            elif c == 0x0A:
                self.fail("LF without CR")
            else:
                self.word.append(c)
        elif st == "codestart":
            if c == ord("["):
                self.state = "code"
            elif c == 0x0D:
                self.state = "cr"
            elif c == 0x0A:
                self.fail("LF without CR")
            else:
                self.state = "text"
        elif st == "code":
            if c in b"\r\n":
                self.fail("a response code not closed on its line")
            if c == ord("("):
                self.depth.append(c)
            elif c == ord(")"):
                if not self.depth:
                    self.fail("')' without '(' in a response code")
                self.depth.pop()
            elif c == ord("]") and not self.depth:
                self.state = "text"
        elif st == "text":
            if c == 0x0D:
                self.state = "cr"
            elif c == 0x0A:
                self.fail("LF without CR")
        elif st == "data":
            if c in b"([":
                self.depth.append(c)
            elif c == ord(")"):
                if not self.depth or self.depth[-1] != ord("("):
                    self.fail("')' without a matching '('")
                self.depth.pop()
            elif c == ord("]"):
                if self.depth and self.depth[-1] == ord("["):
                    self.depth.pop()
            elif c == ord('"'):
                self.state = "quoted"
            elif c == ord("{"):
                self.state = "size"
                self.digits = b""
                self.plus = False
            elif c == 0x0D:
                self.state = "cr"
            elif c == 0x0A:
                self.fail("LF without CR")
        elif st == "quoted":
            if c == ord('"'):
                self.state = "data"
            elif c == ord("\\"):
                self.state = "escape"
            elif c in b"\r\n":
                self.fail("CR or LF inside a quoted string")
        elif st == "escape":
            if c not in b'"\\':
                self.fail("an escape other than \\\" or \\\\ in a quoted string")
            self.state = "quoted"
        elif st == "size":
            if chr(c).isdigit() and not self.plus:
                self.digits += bytes([c])
            elif c == ord("+") and self.digits and not self.plus:
                self.plus = True
            elif c == ord("}") and self.digits:
                self.literal = int(self.digits)
                self.state = "size_end"
            else:
                self.fail("'{' that does not announce a literal")
        elif st == "size_end":
            if c != 0x0D:
                self.fail("a literal announcement not at the end of its line")
            self.state = "size_lf"
        elif st == "size_lf":
            if c != 0x0A:
                self.fail("CR without LF")
            self.state = "literal" if self.literal else "data"
        elif st == "cr":
            if c != 0x0A:
                self.fail("CR without LF")
            if self.depth:
                self.fail("unbalanced parentheses or brackets at the end of a line")
            self.lines += 1
            self.state = "start"


class CheckedReader:
    """The file imaplib reads the server through, with every byte fed to a
    FramingChecker on the way."""

    def __init__(self, f):
        self.f = f
        self.framing = FramingChecker()

    def read(self, size=-1):
        data = self.f.read(size)
        self.framing.feed(data)
        return data

    def readline(self, size=-1):
        data = self.f.readline(size)
        self.framing.feed(data)
        return data

    def close(self):
        self.f.close()


class CheckedIMAP4(imaplib.IMAP4):
    """imaplib's client, its input checked for IMAP framing (plaintext; after
    STARTTLS imaplib makes a new reader, which is checked again from scratch)."""

    def open(self, *args, **kwargs):
        super().open(*args, **kwargs)
        self.file = CheckedReader(self.file)

    def starttls(self, *args, **kwargs):
        result = super().starttls(*args, **kwargs)
        self.file = CheckedReader(self.file)
        return result


class RawClient:
    """A client on a raw socket. Every byte it receives goes through a
    FramingChecker, so any test that reads through it (e2e, hostile) fails
    on malformed server output."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.framing = FramingChecker()

    def send(self, data):
        self.sock.sendall(data)

    def recv(self, size=65536):
        chunk = self.sock.recv(size)
        self.framing.feed(chunk)
        return chunk

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.recv()
            if not chunk:
                raise EOFError("connection closed; have %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def until_tagged(self, tag):
        """Lines up to and including the one tagged `tag`."""
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag + b" "):
                return lines

    def closed(self):
        try:
            self.sock.settimeout(5 * SLOW)
            while True:
                chunk = self.recv()
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, socket.timeout):
            return False

    def close(self):
        self.sock.close()


class WithServer(unittest.TestCase):
    server_args = {}

    def setUp(self):
        self.server = Server(**self.server_args)

    def tearDown(self):
        self.server.stop()


class Greeting(WithServer):
    def test_greeting_carries_capability_rfc3501_7_1_1(self):
        c = self.server.raw()
        greeting = c.line()
        self.assertTrue(greeting.startswith(b"* OK [CAPABILITY IMAP4rev1 "), greeting)

    def test_capability_noop_logout_rfc3501_6_1(self):
        m = self.server.imap()
        typ, caps = m.capability()
        self.assertEqual(typ, "OK")
        self.assertIn(b"IMAP4rev1", caps[0].split())
        self.assertNotIn(b"LOGINDISABLED", caps[0].split())
        self.assertEqual(m.noop()[0], "OK")
        typ, data = m.logout()
        self.assertEqual(typ, "BYE")

    def test_logout_sends_bye_then_tagged_ok_then_closes_rfc3501_6_1_3(self):
        c = self.server.raw()
        c.line()
        c.send(b"a1 LOGOUT\r\n")
        self.assertTrue(c.line().startswith(b"* BYE "))
        self.assertTrue(c.line().startswith(b"a1 OK "))
        self.assertTrue(c.closed())


class Login(WithServer):
    def test_login_right_password_rfc3501_6_2_3(self):
        m = self.server.imap()
        typ, data = m.login("alice", "wonderland")
        self.assertEqual(typ, "OK")
        # RFC 3501 §7.1: the new capabilities in the OK's response code, or
        # (a list longer than the session's code limit) in an untagged
        # CAPABILITY just before it; imaplib keeps the latter.
        untagged = m.untagged_responses.get("CAPABILITY", [])
        self.assertTrue(b"[CAPABILITY IMAP4rev1" in data[0] or
                        any(c.startswith(b"IMAP4rev1 ") for c in untagged), (data, untagged))
        m.logout()

    def test_login_wrong_password_is_delayed_no(self):
        m = self.server.imap()
        start = time.time()
        with self.assertRaises(imaplib.IMAP4.error) as ctx:
            m.login("alice", "queen")
        # The server counts in whole milliseconds of its monotonic clock: the
        # delay runs from the millisecond the LOGIN arrived in, so it may end
        # up to 1 ms short of 0.3 s as the client measures it.
        self.assertGreaterEqual(time.time() - start, 0.3 - 0.002)
        self.assertIn("AUTHENTICATIONFAILED", str(ctx.exception))
        # The connection is still usable after the NO.
        self.assertEqual(m.login("alice", "wonderland")[0], "OK")
        m.logout()

    def test_login_delay_does_not_block_other_clients(self):
        slow = self.server.raw()
        slow.line()
        slow.send(b"x LOGIN alice nope\r\n")
        time.sleep(0.05)
        fast = self.server.raw()
        fast.line()
        start = time.time()
        fast.send(b"y NOOP\r\n")
        self.assertTrue(fast.until_tagged(b"y")[-1].startswith(b"y OK"))
        self.assertLess(time.time() - start, 0.25)
        self.assertTrue(slow.until_tagged(b"x")[-1].startswith(b"x NO "))

    def test_unknown_user_gets_the_same_no(self):
        m = self.server.imap()
        with self.assertRaises(imaplib.IMAP4.error) as ctx:
            m.login("mallory", "x")
        self.assertIn("AUTHENTICATIONFAILED", str(ctx.exception))

    def test_login_with_literals_rfc3501_4_3_and_rfc7888(self):
        c = self.server.raw()
        c.line()
        c.send(b"a LOGIN {5}\r\n")
        self.assertTrue(c.line().startswith(b"+ "))
        c.send(b"alice {10}\r\n")
        self.assertTrue(c.line().startswith(b"+ "))
        c.send(b"wonderland\r\n")
        self.assertTrue(c.until_tagged(b"a")[-1].startswith(b"a OK "))
        c2 = self.server.raw()
        c2.line()
        c2.send(b"b LOGIN {5+}\r\nalice {10+}\r\nwonderland\r\n")
        self.assertTrue(c2.until_tagged(b"b")[-1].startswith(b"b OK "))

    def test_commands_not_built_are_refused_never_fake_ok(self):
        c = self.server.raw()
        c.line()
        c.send(b"a SELECT INBOX\r\n")
        self.assertTrue(c.line().startswith(b"a BAD "))
        c.send(b"b LOGIN alice wonderland\r\np APPEND INBOX {1+}\r\nx\r\ns SELECT INBOX\r\n"
               b"c FETCH 1 EMAILID\r\nd FROB\r\n")
        self.assertTrue(c.until_tagged(b"b")[-1].startswith(b"b OK"))
        self.assertTrue(c.until_tagged(b"p")[-1].startswith(b"p OK"))
        self.assertTrue(c.until_tagged(b"s")[-1].startswith(b"s OK"))
        # RFC 8474 EMAILID is served now (it was refused with NO [CANNOT]).
        fetched = c.until_tagged(b"c")
        self.assertTrue(fetched[0].startswith(b"* 1 FETCH (EMAILID (M"), fetched)
        self.assertTrue(fetched[-1].startswith(b"c OK"), fetched)
        self.assertTrue(c.line().startswith(b"d BAD "))


class LoginDisabled(WithServer):
    server_args = {"plaintext": False}

    def test_logindisabled_advertised_and_login_refused_rfc3501_6_2_3(self):
        m = self.server.imap()
        self.assertIn(b"LOGINDISABLED", m.capability()[1][0].split())
        c = self.server.raw()
        c.line()
        c.send(b"a LOGIN alice wonderland\r\n")
        self.assertTrue(c.line().startswith(b"a NO [PRIVACYREQUIRED]"))


class Parser(WithServer):
    def test_command_sent_one_byte_at_a_time(self):
        c = self.server.raw()
        c.line()
        for b in b"abc LOGIN alice wonderland\r\n":
            c.send(bytes([b]))
        self.assertTrue(c.until_tagged(b"abc")[-1].startswith(b"abc OK"))

    def test_fifty_pipelined_commands_answered_in_order_rfc3501_5_5(self):
        c = self.server.raw()
        c.line()
        c.send(b"".join(b"t%d NOOP\r\n" % i for i in range(50)))
        for i in range(50):
            self.assertTrue(c.line().startswith(b"t%d OK" % i))

    def test_hostile_input_gets_bad_and_connection_stays_usable(self):
        c = self.server.raw()
        c.line()
        c.send(b"l LOGIN alice wonderland\r\n")
        self.assertTrue(c.until_tagged(b"l")[-1].startswith(b"l OK"))
        cases = [
            b"a1 NO\x00OP\r\n",
            b"a2 LOGIN " + b"x" * 200000 + b" y\r\n",
            b"a3 LOGIN {4294967295}\r\n",
            b"a4 X " + b"(" * 5000 + b")" * 5000 + b"\r\n",
            b"a5 LOGIN \"abc\r\n",
            b"a6 LOGIN {5\r\n",
            b"a7 FETCH 0:x FLAGS\r\n",
            b"a8 UID STORE 1:*,,4 +FLAGS (\\Seen)\r\n",
            b"a9 SEARCH CHARSET UTF-8 SINCE 30-Feb-2024\r\n",
        ]
        for i, case in enumerate(cases):
            tag = b"a%d" % (i + 1)
            c.send(case)
            line = c.line()
            self.assertTrue(line.startswith(tag + b" BAD "), (case[:40], line))
            c.send(b"n NOOP\r\n")
            self.assertTrue(c.line().startswith(b"n OK"), case[:40])


class Limits(WithServer):
    server_args = {"extra": ["--max-clients=2", "--max-clients-per-address=2"]}

    def test_one_connection_too_many_gets_bye(self):
        a = self.server.raw()
        b = self.server.raw()
        a.line()
        b.line()
        c = self.server.raw()
        self.assertTrue(c.line().startswith(b"* BYE "))
        self.assertTrue(c.closed())
        a.send(b"x NOOP\r\n")
        self.assertTrue(a.line().startswith(b"x OK"))


class ManyConnectionsBase(WithServer):
    """2000 connections against 256 slots (no tests of its own)."""

    def rss_kib(self):
        with open(f"/proc/{self.server.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def connect_2000(self):
        """(RSS before, once the 256 slots are taken, after 2000 connections)."""
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 2400:
            self.skipTest("not enough file descriptors")
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2400), hard))
        # A few connections first: the runtime's one-time pieces (the
        # sanitizers' lazily mapped fake stacks: 64-192 KiB under ASan, even
        # for 5 connections) are not growth per connection.
        for _ in range(5):
            w = self.server.raw()
            w.line()
            w.send(b"z LOGOUT\r\n")
            w.until_tagged(b"z")
            w.close()
        deadline = time.time() + 10 * SLOW  # their slots are free again
        while self.server.log_text().count("connection closed: ") < 5 and time.time() < deadline:
            time.sleep(0.02)
        before = self.rss_kib()
        full = None
        socks, greeted, refused = [], 0, 0
        for i in range(2000):
            s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10 * SLOW)
            socks.append(s)
            line = s.makefile("rb").readline()
            if line.startswith(b"* OK"):
                greeted += 1
            elif line.startswith(b"* BYE"):
                refused += 1
            if greeted == 256 and full is None:
                full = self.rss_kib()
        self.assertEqual(greeted, 256)
        self.assertEqual(refused, 2000 - 256)
        after = self.rss_kib()
        for s in socks:
            s.close()
        return before, full, after


class ManyConnections(ManyConnectionsBase):
    # prefault = yes: the reservation is resident from the start.
    server_args = {"extra": ["--max-clients=256", "--max-clients-per-address=100000",
                             "--prefault=yes"]}

    def test_2000_connections_against_256_slots_get_bye_and_rss_stays(self):
        before, full, after = self.connect_2000()
        # Memory was reserved and touched at startup: serving every slot and
        # refusing 1744 more connections does not grow the process.
        if not EMULATOR:
            self.assertLessEqual(after - before, 256, (before, full, after))


class ManyConnectionsResidentOnUse(ManyConnectionsBase):
    # The default: reserved at startup, resident as slots are first used.
    server_args = {"extra": ["--max-clients=256", "--max-clients-per-address=100000"]}

    def test_2000_connections_against_256_slots_grow_rss_within_the_reservation(self):
        m = re.search(r"(\d+) KiB reserved", self.server.log_text())
        self.assertIsNotNone(m)
        before, full, after = self.connect_2000()
        if not EMULATOR:
            # The slots' pages become resident as they are first used, never
            # more than what the startup line says was reserved; refusing
            # 1744 connections once every slot is taken adds nothing.
            self.assertGreater(full - before, 256 * 4, (before, full, after))
            self.assertLessEqual(full - before, int(m.group(1)), (before, full, after))
            self.assertLessEqual(after - full, 256, (before, full, after))


class Privileges(WithServer):
    def test_dropped_privileges_seen_in_proc_status(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        import pwd
        nobody = pwd.getpwnam("nobody")
        with open(f"/proc/{self.server.proc.pid}/status") as f:
            status = dict(line.split(":", 1) for line in f if ":" in line)
        self.assertEqual(status["Uid"].split(), [str(nobody.pw_uid)] * 4)
        self.assertEqual(status["Gid"].split(), [str(nobody.pw_gid)] * 4)
        self.assertEqual(status["Groups"].split(), [str(nobody.pw_gid)])


_TLS_LINE = None


def tls_line():
    """The "TLS: ..." line of `tinyimapd --version` ("TLS: mbedTLS 3.6.6, TLS
    1.2 and 1.3", "TLS: mbedTLS 2.28.3, TLS 1.2" or "TLS: none")."""
    global _TLS_LINE
    if _TLS_LINE is None:
        r = subprocess.run(EMULATOR + [BINARY, "--version"], capture_output=True,
                           timeout=20 * SLOW)
        lines = [l for l in r.stdout.decode().splitlines() if l.startswith("TLS: ")]
        _TLS_LINE = lines[0] if lines else "TLS: none"
    return _TLS_LINE


def offers_tls13():
    """Whether the server offers TLS 1.3 (built against mbedTLS 3.x). The build
    sets TINYIMAPD_EXPECT_TLS13=1 for the ctest run when it found mbedTLS 3,
    so a binary that lost TLS 1.3 fails instead of skipping."""
    has = tls_line().endswith("1.2 and 1.3")
    if os.environ.get("TINYIMAPD_EXPECT_TLS13") == "1" and not has:
        raise AssertionError("built against mbedTLS 3 but --version says: " + tls_line())
    return has


def best_tls_version():
    """What a modern client (Python's ssl, openssl s_client) negotiates."""
    return "TLSv1.3" if offers_tls13() else "TLSv1.2"


def tls_context():
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Tls(WithServer):
    """RFC 3501 §6.2.1 STARTTLS, RFC 2595, RFC 8314 implicit TLS, with a
    self-signed certificate made at first start."""

    def setUp(self):
        self.tls_port = free_port()
        self.server = Server(extra=[f"--tls-listen=127.0.0.1:{self.tls_port}"], plaintext=False)

    def test_certificate_and_key_generated_with_mode_0600(self):
        for name in ("cert.pem", "key.pem"):
            path = os.path.join(self.server.dir, "mail", ".tls", name)
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600, path)

    def test_imaplib_starttls_then_login(self):
        m = self.server.imap()
        caps = m.capability()[1][0].split()
        self.assertIn(b"STARTTLS", caps)
        self.assertIn(b"LOGINDISABLED", caps)
        with self.assertRaises(imaplib.IMAP4.error):
            m.login("alice", "wonderland")
        self.assertEqual(m.starttls(ssl_context=tls_context())[0], "OK")
        caps = m.capability()[1][0].split()
        self.assertNotIn(b"STARTTLS", caps)
        self.assertNotIn(b"LOGINDISABLED", caps)
        self.assertIn(b"AUTH=PLAIN", caps)
        self.assertEqual(m.login("alice", "wonderland")[0], "OK")
        self.assertEqual(m.sock.version(), best_tls_version())
        m.logout()

    def test_imaplib_implicit_tls_and_authenticate_plain(self):
        m = imaplib.IMAP4_SSL("127.0.0.1", self.tls_port, ssl_context=tls_context(),
                              timeout=10 * SLOW)
        self.server.clients.append(m.sock)
        self.assertIn(b"AUTH=PLAIN", m.capability()[1][0].split())
        typ, _ = m.authenticate("PLAIN", lambda _: b"\0alice\0wonderland")
        self.assertEqual(typ, "OK")
        m.logout()

    def test_starttls_injection_is_not_executed(self):
        import ssl
        c = self.server.raw()
        c.line()
        # The LOGIN rides in the same packet as STARTTLS, in plaintext: it
        # must be thrown away, not run after the handshake.
        c.send(b"a STARTTLS\r\nb LOGIN alice wonderland\r\n")
        self.assertTrue(c.line().startswith(b"a OK"))
        t = RawClient(tls_context().wrap_socket(c.sock))
        t.send(b"c CAPABILITY\r\n")
        lines = t.until_tagged(b"c")
        self.assertTrue(lines[-1].startswith(b"c OK"))
        self.assertIn(b"AUTH=PLAIN", lines[0])  # still not authenticated
        self.assertNotIn("login: user=alice", self.server.log_text())

    def test_openssl_s_client_starttls_and_implicit(self):
        if shutil.which("openssl") is None:
            self.skipTest("openssl not installed")
        for args in (["-starttls", "imap", "-connect", f"127.0.0.1:{self.server.port}"],
                     ["-connect", f"127.0.0.1:{self.tls_port}"]):
            r = subprocess.run(["openssl", "s_client", "-brief", "-ign_eof"] + args,
                               input=b"x LOGOUT\r\n",
                               capture_output=True, timeout=30 * SLOW)
            out = r.stdout + r.stderr
            self.assertIn(b"Protocol version: " + best_tls_version().encode(), out, out)
            self.assertIn(b"* BYE", out, out)

    def test_curl_ssl_reqd_and_imaps(self):
        if shutil.which("curl") is None:
            self.skipTest("curl not installed")
        for url, extra in ((f"imap://127.0.0.1:{self.server.port}/", ["--ssl-reqd"]),
                           (f"imaps://127.0.0.1:{self.tls_port}/", [])):
            r = subprocess.run(["curl", "-sS", "-k", "--max-time", "30", "-u", "alice:wonderland",
                                "-X", "NOOP"] + extra + [url], capture_output=True)
            self.assertEqual(r.returncode, 0, (url, r.stderr))

    def test_tls_1_1_is_refused(self):
        import ssl
        ctx = tls_context()
        try:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
            ctx.set_ciphers("ALL:@SECLEVEL=0")
        except (ValueError, ssl.SSLError):
            self.skipTest("this OpenSSL cannot speak TLS 1.1")
        s = socket.create_connection(("127.0.0.1", self.tls_port), timeout=10 * SLOW)
        self.server.clients.append(s)
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            ctx.wrap_socket(s)


class Signals(WithServer):
    def test_sigterm_sends_bye_and_exits_cleanly(self):
        c = self.server.raw()
        c.line()
        self.server.proc.send_signal(signal.SIGTERM)
        self.assertTrue(c.line().startswith(b"* BYE "))
        self.assertEqual(self.server.proc.wait(10 * SLOW), 0)

    def test_sighup_rereads_the_passwd_file(self):
        with open(self.server.passwd, "a") as f:
            f.write("bob:{PLAIN}builder\n")
        m = self.server.imap()
        with self.assertRaises(imaplib.IMAP4.error):
            m.login("bob", "builder")
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 5 * SLOW
        while "reloaded" not in self.server.log_text() and time.time() < deadline:
            time.sleep(0.05)
        m = self.server.imap()
        self.assertEqual(m.login("bob", "builder")[0], "OK")
        m.logout()


class Mailboxes(WithServer):
    """RFC 3501 §6.3 with Python's imaplib and curl: the store behind the
    protocol, including mail from another connection seen at NOOP."""

    def test_create_list_append_status_select_noop(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        self.assertEqual(m.create("Archive/2024")[0], "OK")
        typ, data = m.list()
        self.assertEqual(typ, "OK")
        names = [line.decode() for line in data]
        self.assertIn('(\\HasNoChildren) "/" INBOX', names)
        self.assertIn('(\\HasNoChildren) "/" Archive/2024', names)
        msg = b"From: a@example.org\r\nSubject: hi\r\n\r\nbody\r\n"
        typ, data = m.append("INBOX", "(\\Seen)", imaplib.Time2Internaldate(0), msg)
        self.assertEqual(typ, "OK", data)
        self.assertEqual(m.status("INBOX", "(MESSAGES UNSEEN UIDNEXT)")[1][0],
                         b"INBOX (MESSAGES 1 UNSEEN 0 UIDNEXT 2)")
        typ, data = m.select("INBOX")
        self.assertEqual((typ, data[0]), ("OK", b"1"))
        other = self.server.imap()
        other.login("alice", "wonderland")
        other.append("INBOX", None, None, msg)
        m.noop()
        self.assertEqual(m.untagged_responses.get("EXISTS")[-1], b"2")
        typ, data = m.append("Nowhere", None, None, msg)
        self.assertEqual(typ, "NO")
        self.assertIn(b"TRYCREATE", data[0])
        self.assertEqual(m.close()[0], "OK")
        self.assertEqual(m.rename("Archive", "Old")[0], "OK")
        self.assertEqual(m.delete("Old/2024")[0], "OK")
        m.logout()

    def test_fetch_store_copy_expunge_with_imaplib(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        msg = b"From: a@example.org\r\nSubject: hi\r\n\r\nbody line\r\n"
        for _ in range(3):
            m.append("INBOX", None, None, msg)
        m.select("INBOX")
        typ, data = m.fetch("1:3", "(UID RFC822.SIZE BODY.PEEK[])")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1], msg)
        self.assertIn(b"RFC822.SIZE %d" % len(msg), data[0][0])
        typ, data = m.fetch("1", "(ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK")
        self.assertIn(b'ENVELOPE (NIL "hi" ((NIL NIL "a" "example.org"))', data[0][0])
        self.assertIn(b'BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 11 1',
                      data[0][0])
        self.assertEqual(data[0][1], b"Subject: hi\r\n\r\n")
        typ, data = m.uid("FETCH", "2", "(BODY[TEXT])")
        self.assertEqual(data[0][1], b"body line\r\n")
        self.assertIn(b"\\Seen", m.fetch("2", "(FLAGS)")[1][0])
        self.assertEqual(m.search(None, "SUBJECT", "hi")[1][0], b"1 2 3")
        self.assertEqual(m.search(None, "SEEN")[1][0], b"2")
        self.assertEqual(m.uid("SEARCH", "BODY", "line", "NOT", "UID", "1")[1][0], b"2 3")
        self.assertEqual(m.store("1", "+FLAGS", "(\\Deleted)")[0], "OK")
        m.create("Kept")
        self.assertEqual(m.copy("1:3", "Kept")[0], "OK")
        typ, data = m.expunge()
        self.assertEqual((typ, data), ("OK", [b"1"]))
        self.assertEqual(m.status("Kept", "(MESSAGES)")[1][0], b"Kept (MESSAGES 3)")
        m.logout()

    def test_curl_fetches_a_message_by_uid(self):
        if shutil.which("curl") is None:
            self.skipTest("curl not installed")
        m = self.server.imap()
        m.login("alice", "wonderland")
        msg = b"Subject: for curl\r\n\r\nhello curl\r\n"
        m.append("INBOX", None, None, msg)
        m.logout()
        r = subprocess.run(["curl", "-sS", "--max-time", "20", "-u", "alice:wonderland",
                            f"imap://127.0.0.1:{self.server.port}/INBOX;UID=1"],
                           capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, msg)

    def test_curl_appends_with_upload_file(self):
        if shutil.which("curl") is None:
            self.skipTest("curl not installed")
        path = os.path.join(self.server.dir, "message.eml")
        with open(path, "wb") as f:
            f.write(b"From: curl@example.org\r\nSubject: upload\r\n\r\nhello\r\n")
        r = subprocess.run(["curl", "-sS", "--max-time", "20", "-u", "alice:wonderland", "-T",
                            path, f"imap://127.0.0.1:{self.server.port}/INBOX"],
                           capture_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        m = self.server.imap()
        m.login("alice", "wonderland")
        self.assertEqual(m.status("INBOX", "(MESSAGES)")[1][0], b"INBOX (MESSAGES 1)")
        m.logout()


def server_options(server):
    """The options that point a tool at a test server's store."""
    return [a for a in server.args if a.split("=", 1)[0] in
            ("--mail-dir", "--passwd-file", "--user")]


def run_tool(server, *args, input=None):
    return subprocess.run(EMULATOR + [BINARY] + list(args) + server_options(server), input=input,
                          capture_output=True, timeout=60 * SLOW)


class DeliverWhileSelected(WithServer):
    def test_deliver_into_a_selected_mailbox_is_seen_at_noop(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        self.assertEqual(m.select("INBOX")[1][0], b"0")
        r = run_tool(self.server, "deliver", "-u", "alice",
                     input=b"From: mta@example.org\nSubject: delivered\n\nhello\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        m.noop()
        self.assertEqual(m.untagged_responses.get("EXISTS")[-1], b"1")
        self.assertEqual(m.untagged_responses.get("RECENT")[-1], b"1")
        m.logout()


class KillDuringAppends(unittest.TestCase):
    """DESIGN.md: a message acknowledged with OK survives a crash. The server
    is killed with SIGKILL six times while a client streams APPENDs; every
    acknowledged message must be there exactly once, byte for byte, and
    UIDVALIDITY must not change."""

    def test_six_sigkills_lose_no_acknowledged_message(self):
        import random
        import signal as sig
        server = Server()
        try:
            acknowledged = []
            validity = None
            rnd = random.Random(1234)
            n = 0
            for round_ in range(6):
                c = server.raw()
                c.line()
                c.send(b"l LOGIN alice wonderland\r\n")
                c.until_tagged(b"l")
                c.send(b"s STATUS INBOX (UIDVALIDITY MESSAGES)\r\n")
                status = c.until_tagged(b"s")[0]
                v = status.split(b"UIDVALIDITY ")[1].split(b" ")[0].rstrip(b")")
                if validity is None:
                    validity = v
                self.assertEqual(v, validity, "UIDVALIDITY changed after a crash")
                deadline = time.time() + rnd.uniform(0.2, 0.8) * SLOW
                try:
                    while time.time() < deadline:
                        body = (b"Subject: m%d\r\n\r\nmessage %d " % (n, n) +
                                bytes(rnd.choice(b"abcdefgh") for _ in range(rnd.randint(10, 3000))) +
                                b"\r\n")
                        c.send(b"a%d APPEND INBOX {%d+}\r\n" % (n, len(body)) + body + b"\r\n")
                        reply = c.until_tagged(b"a%d" % n)[-1]
                        self.assertTrue(reply.startswith(b"a%d OK" % n), reply)
                        acknowledged.append(body)
                        n += 1
                    # Kill while more APPENDs are in flight, unacknowledged.
                    for k in range(3):
                        c.send(b"z%d APPEND INBOX {2000+}\r\n" % k + b"x" * 2000 + b"\r\n")
                finally:
                    server.proc.send_signal(sig.SIGKILL)
                    server.proc.wait()
                    c.close()
                # Restart on the same store.
                server.log = open(os.path.join(server.dir, "log"), "w+")
                server.proc = subprocess.Popen(EMULATOR + [BINARY] + server.args,
                                               stdout=server.log, stderr=subprocess.STDOUT)
                deadline = time.time() + 10 * SLOW
                while " started: " not in server.log_text() and time.time() < deadline:
                    time.sleep(0.05)
            self.assertGreater(len(acknowledged), 6)
            out = os.path.join(server.dir, "export.mbox")
            r = run_tool(server, "export", "-u", "alice", "--mbox", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            exported = open(out, "rb").read()
            for message in acknowledged:
                # export writes mbox (LF line ends, a Status header added to
                # the header): the header line and the body come back intact.
                header, body = message.replace(b"\r\n", b"\n").split(b"\n\n", 1)
                self.assertEqual(exported.count(b"\n\n" + body), 1, header)
                self.assertIn(header + b"\n", exported)
            c = server.raw()
            c.line()
            c.send(b"l LOGIN alice wonderland\r\ns STATUS INBOX (UIDVALIDITY MESSAGES)\r\n")
            c.until_tagged(b"l")
            status = c.until_tagged(b"s")[0]
            self.assertIn(b"UIDVALIDITY " + validity, status)
            # Nothing unacknowledged but whole messages: the "z" ones may or
            # may not have landed (no OK was seen), never torn.
            messages = int(status.split(b"MESSAGES ")[1].split(b")")[0].split(b" ")[0])
            self.assertGreaterEqual(messages, len(acknowledged))
            self.assertLessEqual(messages, len(acknowledged) + 3 * 6)
        finally:
            server.stop()


class Mbsync(WithServer):
    """A two-way sync with mbsync (Debian's isync) between the server and a
    local Maildir: messages and flags down, a new message up, a deletion
    up and expunged (RFC 4315 UIDPLUS keeps mbsync on its fast path)."""

    def test_two_way_sync(self):
        if shutil.which("mbsync") is None:
            self.skipTest("mbsync (isync) not installed")
        m = self.server.imap()
        m.login("alice", "wonderland")
        m.create("Work")
        m.append("INBOX", "(\\Seen)", None, b"Subject: one\r\n\r\nfirst\r\n")
        m.append("INBOX", None, None, b"Subject: two\r\n\r\nsecond\r\n")
        m.append("Work", "(\\Flagged)", None, b"Subject: work\r\n\r\nwork\r\n")
        local = os.path.join(self.server.dir, "local")
        os.makedirs(local)
        rc = os.path.join(self.server.dir, "mbsyncrc")
        with open(rc, "w") as f:
            f.write(f"""IMAPAccount t
Host 127.0.0.1
Port {self.server.port}
User alice
Pass wonderland
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account t

MaildirStore local
Path {local}/
Inbox {local}/INBOX
SubFolders Verbatim

Channel c
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
""")

        def sync():
            r = subprocess.run(["mbsync", "-c", rc, "-a"], capture_output=True, timeout=60 * SLOW)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotIn(b"error", r.stderr.lower())

        sync()
        inbox = [f for d in ("cur", "new") for f in os.listdir(os.path.join(local, "INBOX", d))]
        self.assertEqual(len(inbox), 2)
        self.assertEqual(sum(1 for f in inbox if f.endswith(",S")), 1)
        work = os.listdir(os.path.join(local, "Work", "cur")) + \
            os.listdir(os.path.join(local, "Work", "new"))
        self.assertEqual(len(work), 1)
        self.assertTrue(work[0].endswith(",F"))
        # Local changes: a new message, and the unseen one deleted.
        with open(os.path.join(local, "INBOX", "new", "100.local"), "wb") as f:
            f.write(b"Subject: three\r\n\r\nfrom the maildir\r\n")
        for d in ("cur", "new"):
            for name in os.listdir(os.path.join(local, "INBOX", d)):
                if not name.endswith(",S") and "U=" in name:
                    os.unlink(os.path.join(local, "INBOX", d, name))
        time.sleep(1.1)  # mbsync waits for the Maildir's mtime to settle
        sync()
        m.select("INBOX")
        typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        subjects = sorted(part[1].strip() for part in data if isinstance(part, tuple))
        self.assertEqual(subjects, [b"Subject: one", b"Subject: three"])
        m.logout()


class Curl(WithServer):
    def test_curl_logs_in_and_runs_a_command(self):
        if shutil.which("curl") is None:
            self.skipTest("curl not installed")
        url = f"imap://127.0.0.1:{self.server.port}/"
        ok = subprocess.run(["curl", "-sS", "--max-time", "20", "-u", "alice:wonderland",
                             "-X", "NOOP", url], capture_output=True)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        bad = subprocess.run(["curl", "-sS", "--max-time", "20", "-u", "alice:nope", "-X",
                              "NOOP", url], capture_output=True)
        self.assertEqual(bad.returncode, 67, bad.stderr)  # CURLE_LOGIN_DENIED


class CommandLine(unittest.TestCase):
    def run_binary(self, *args, timeout=20):
        return subprocess.run(EMULATOR + [BINARY] + list(args), capture_output=True,
                              timeout=timeout * SLOW)

    def test_version_and_help(self):
        r = self.run_binary("--version")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"tinyimapd", r.stdout)
        r = self.run_binary("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn(b"passwd_file", r.stdout)

    def test_check_config_prints_the_effective_configuration(self):
        r = self.run_binary("--check-config", "--listen=127.0.0.1:1999", "--max-clients=5")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"127.0.0.1:1999", r.stdout)
        self.assertIn(b"max_clients = 5", r.stdout)

    def test_bad_value_exit_78_and_named(self):
        r = self.run_binary("--check-config", "--max-clients=lots")
        self.assertEqual(r.returncode, 78)
        self.assertIn(b"max-clients", r.stderr)

    def test_config_file_error_names_file_and_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write("# comment\nmail_dir = /tmp/x\nno_such_key = 1\n")
        try:
            r = self.run_binary("--check-config", "--config", f.name)
            self.assertEqual(r.returncode, 78)
            self.assertIn(f"{f.name}:3".encode(), r.stderr)
        finally:
            os.unlink(f.name)

    def test_missing_config_file_exit_66(self):
        r = self.run_binary("--check-config", "--config=/nonexistent/tinyimapd.conf")
        self.assertEqual(r.returncode, 66)
        self.assertIn(b"/nonexistent/tinyimapd.conf", r.stderr)

    def test_refuses_to_serve_as_root(self):
        if os.geteuid() != 0:
            self.skipTest("needs root")
        d = tempfile.mkdtemp()
        with open(os.path.join(d, "passwd"), "w") as f:
            f.write("u:{PLAIN}p\n")
        try:
            r = self.run_binary(f"--listen=127.0.0.1:{free_port()}", "--foreground",
                                f"--passwd-file={d}/passwd", f"--mail-dir={d}")
            self.assertEqual(r.returncode, 78, r.stderr)
            self.assertIn(b"root", r.stderr)
        finally:
            shutil.rmtree(d)

    def test_passwd_subcommand_prints_a_hashed_line(self):
        r = subprocess.run(EMULATOR + [BINARY, "passwd", "-u", "carol"], input=b"s3cret\n",
                           capture_output=True, timeout=20 * SLOW)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout.decode(), r"^carol:\{SHA512-CRYPT\}\$6\$[^$]+\$[./0-9A-Za-z]{86}\n$")
        r = subprocess.run(EMULATOR + [BINARY, "passwd"], input=b"\n", capture_output=True,
                           timeout=20 * SLOW)
        self.assertEqual(r.returncode, 65)

    def test_port_in_use_exit_69(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            d = tempfile.mkdtemp()
            with open(os.path.join(d, "passwd"), "w") as f:
                f.write("u:{PLAIN}p\n")
            try:
                r = self.run_binary(f"--listen=127.0.0.1:{port}", "--foreground", "--user=nobody",
                                    f"--passwd-file={d}/passwd", f"--mail-dir={d}")
                self.assertEqual(r.returncode, 69, r.stderr)
                self.assertIn(f"127.0.0.1:{port}".encode(), r.stderr)
            finally:
                shutil.rmtree(d)

    def test_unknown_subcommand_exit_64(self):
        r = self.run_binary("frobnicate")
        self.assertEqual(r.returncode, 64)


def load_extension_tests():
    """Adds the test classes of tests/e2e/ext_*.py (one file per topic; they
    import Server, RawClient and WithServer from this module) to this run."""
    sys.modules.setdefault("test_server", sys.modules[__name__])
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(here)):
        if not (name.startswith("ext_") and name.endswith(".py")):
            continue
        module = importlib.import_module(name[:-3])
        for attr, obj in vars(module).items():
            if (isinstance(obj, type) and issubclass(obj, unittest.TestCase)
                    and obj.__module__ == module.__name__):
                globals()[attr] = obj


def main():
    global BINARY, EMULATOR, SLOW
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--emulator", default="")
    args, rest = p.parse_known_args()
    BINARY = os.path.abspath(args.binary)
    EMULATOR = shlex.split(args.emulator.replace(";", " "))
    if EMULATOR:
        SLOW = 3.0
    load_extension_tests()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
