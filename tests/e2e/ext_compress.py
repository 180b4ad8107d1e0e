"""End-to-end tests of COMPRESS=DEFLATE (RFC 4978) with Python's zlib as the
client's engine (raw DEFLATE, wbits=-15): LIST and FETCH through the
streams, a large FETCH, COMPRESS inside TLS after STARTTLS and on the
implicit-TLS port, a second COMPRESS, and the pool's limit. Every
decompressed byte goes through test_server's FramingChecker. Run by
test_server.py (load_extension_tests)."""
import os
import socket
import zlib

from test_server import (WithServer, Server, RawClient, FramingChecker, free_port, tls_context,
                         SLOW)


class ZClient:
    """A client speaking through raw DEFLATE streams both ways, each
    command followed by a sync flush (RFC 4978 §4)."""

    def __init__(self, sock, pending=b""):
        self.sock = sock
        self.sock.settimeout(10 * SLOW)
        self.c = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.d = zlib.decompressobj(-15)
        self.framing = FramingChecker()
        self.buf = b""
        self.raw_bytes = 0  # compressed bytes received
        if pending:
            self.take(pending)

    def take(self, chunk):
        self.raw_bytes += len(chunk)
        data = self.d.decompress(chunk)
        self.framing.feed(data)
        self.buf += data

    def send(self, data):
        self.sock.sendall(self.c.compress(data) + self.c.flush(zlib.Z_SYNC_FLUSH))

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed; have %r" % self.buf[-200:])
        self.take(chunk)

    def line(self):
        while b"\r\n" not in self.buf:
            self.fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def until_tagged(self, tag):
        lines = []
        while True:
            line = self.line()
            lines.append(line)
            if line.startswith(tag + b" "):
                return lines

    def until_tagged_bytes(self, tag):
        """Everything up to and including the line tagged `tag`, literals
        included (read by their announced sizes)."""
        out = b""
        while True:
            line = self.line()
            out += line + b"\r\n"
            if line.endswith(b"}") and b"{" in line:
                n = int(line[line.rindex(b"{") + 1:-1])
                while len(self.buf) < n:
                    self.fill()
                out += self.buf[:n]
                self.buf = self.buf[n:]
                continue
            if line.startswith(tag + b" "):
                return out


def require_compress(case):
    """Skips `case` when the server was built without zlib (docs/TARGETS.md:
    COMPRESS is then not advertised), unless the build says it has zlib
    (tests/CMakeLists.txt sets TINYIMAPD_EXPECT_COMPRESS=1): then a missing
    COMPRESS=DEFLATE fails instead of skipping."""
    c = case.server.raw()
    greeting = c.line()
    c.close()
    if b"COMPRESS=DEFLATE" not in greeting:
        # Called from setUp: a skip or failure there runs no tearDown, so the
        # server is stopped here (else it outlives the test, under qemu too).
        case.server.stop()
        if os.environ.get("TINYIMAPD_EXPECT_COMPRESS") == "1":
            case.fail("built with zlib but COMPRESS=DEFLATE is not advertised")
        case.skipTest("built without COMPRESS (no zlib for this target)")


def say(c, tag, command):
    c.send(tag + b" " + command + b"\r\n")
    return c.until_tagged(tag)


def compress(c):
    """COMPRESS DEFLATE on RawClient `c`; a ZClient over its socket."""
    c.send(b"z COMPRESS DEFLATE\r\n")
    line = c.line()
    assert line == b"z OK DEFLATE active", line
    pending, c.buf = c.buf, b""
    return ZClient(c.sock, pending)


class Compress(WithServer):
    def setUp(self):
        super().setUp()
        require_compress(self)

    def login(self):
        c = self.server.raw()
        c.line()
        c.send(b"a LOGIN alice wonderland\r\n")
        self.assertTrue(c.until_tagged(b"a")[-1].startswith(b"a OK"))
        return c

    def test_capability_advertises_compress_deflate_rfc4978_3(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        self.assertIn("COMPRESS=DEFLATE", m.capabilities)
        m.logout()

    def test_list_and_fetch_through_the_streams_rfc4978_3(self):
        z = compress(self.login())
        created = say(z, b"c", b"CREATE Projects")[-1]  # RFC 8474 §4.1: with its MAILBOXID
        self.assertTrue(created.startswith(b"c OK [MAILBOXID (") and
                        created.endswith(b")] CREATE completed"), created)
        lines = say(z, b"l", b'LIST "" *')
        self.assertIn(b'* LIST (\\HasNoChildren) "/" Projects', lines)
        body = b"Subject: compressed\r\n\r\nhello through deflate\r\n"
        z.send(b"p APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\n")
        self.assertTrue(z.until_tagged(b"p")[-1].startswith(b"p OK [APPENDUID"))
        say(z, b"s", b"SELECT INBOX")
        z.send(b"f FETCH 1 BODY[]\r\n")
        got = z.until_tagged_bytes(b"f")
        self.assertIn(b"BODY[] {%d}\r\n" % len(body) + body, got)
        self.assertTrue(got.endswith(b"f OK FETCH completed\r\n"))
        self.assertEqual(say(z, b"x", b"LOGOUT")[-1], b"x OK LOGOUT completed")

    def test_large_fetch_is_compressed_and_complete_rfc4978_4(self):
        z = compress(self.login())
        text = b"".join(b"line %06d of a long and repetitive message body\r\n" % i
                        for i in range(40000))
        body = b"Subject: big\r\n\r\n" + text
        z.send(b"p APPEND INBOX {%d+}\r\n" % len(body) + body + b"\r\n")
        self.assertTrue(z.until_tagged(b"p")[-1].startswith(b"p OK"))
        say(z, b"s", b"SELECT INBOX")
        before = z.raw_bytes
        z.send(b"f FETCH 1 BODY[]\r\n")
        got = z.until_tagged_bytes(b"f")
        self.assertIn(body, got)
        self.assertTrue(got.endswith(b"f OK FETCH completed\r\n"))
        # Repetitive text: a fraction of its size went over the wire.
        self.assertLess(z.raw_bytes - before, len(body) // 4)

    def test_second_compress_is_refused_rfc4978_3(self):
        z = compress(self.login())
        self.assertEqual(say(z, b"y", b"COMPRESS DEFLATE"),
                         [b"y NO [COMPRESSIONACTIVE] DEFLATE is already active"])
        self.assertEqual(say(z, b"n", b"NOOP"), [b"n OK NOOP completed"])

    def test_unknown_algorithm_and_before_login_rfc4978_3(self):
        c = self.server.raw()
        c.line()
        c.send(b"b COMPRESS DEFLATE\r\n")
        self.assertTrue(c.until_tagged(b"b")[-1].startswith(b"b BAD"))
        c.send(b"a LOGIN alice wonderland\r\n")
        c.until_tagged(b"a")
        c.send(b"u COMPRESS LZW\r\n")
        self.assertTrue(c.until_tagged(b"u")[-1].startswith(b"u BAD"))
        c.send(b"n NOOP\r\n")  # still uncompressed
        self.assertEqual(c.until_tagged(b"n"), [b"n OK NOOP completed"])


class CompressLimit(WithServer):
    server_args = {"extra": ["--compress-sessions=1"]}

    def setUp(self):
        super().setUp()
        require_compress(self)

    def test_no_engine_free_gets_no_limit_and_stays_plain(self):
        clients = []
        for _ in range(2):
            c = self.server.raw()
            c.line()
            c.send(b"a LOGIN alice wonderland\r\n")
            c.until_tagged(b"a")
            clients.append(c)
        compress(clients[0])
        clients[1].send(b"z COMPRESS DEFLATE\r\n")
        self.assertEqual(clients[1].until_tagged(b"z"),
                         [b"z NO [LIMIT] Too many compressed connections, try again later"])
        clients[1].send(b"n NOOP\r\n")
        self.assertEqual(clients[1].until_tagged(b"n"), [b"n OK NOOP completed"])


class CompressTls(WithServer):
    def setUp(self):
        self.tls_port = free_port()
        self.server = Server(extra=[f"--tls-listen=127.0.0.1:{self.tls_port}"], plaintext=False)
        require_compress(self)

    def test_compress_after_starttls_goes_inside_tls_rfc4978_3(self):
        c = self.server.raw()
        c.line()
        c.send(b"a STARTTLS\r\n")
        self.assertTrue(c.line().startswith(b"a OK"))
        t = RawClient(tls_context().wrap_socket(c.sock))
        t.send(b"b LOGIN alice wonderland\r\n")
        self.assertTrue(t.until_tagged(b"b")[-1].startswith(b"b OK"))
        z = compress(t)
        lines = say(z, b"l", b'LIST "" INBOX')
        self.assertEqual(lines[-1], b"l OK LIST completed")
        self.assertEqual(say(z, b"x", b"LOGOUT")[-1], b"x OK LOGOUT completed")

    def test_compress_on_the_implicit_tls_port_rfc8314(self):
        s = tls_context().wrap_socket(socket.create_connection(("127.0.0.1", self.tls_port),
                                                               timeout=10 * SLOW))
        self.server.clients.append(s)
        c = RawClient(s)
        c.line()
        c.send(b"a LOGIN alice wonderland\r\n")
        self.assertTrue(c.until_tagged(b"a")[-1].startswith(b"a OK"))
        z = compress(c)
        self.assertEqual(say(z, b"n", b"NOOP"), [b"n OK NOOP completed"])
