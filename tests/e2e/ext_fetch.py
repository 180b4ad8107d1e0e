"""End-to-end tests of the FETCH extensions: MOVE (RFC 6851), CONDSTORE in
FETCH and STORE (RFC 7162 §3.1), the ENVELOPE/BODYSTRUCTURE cache, BINARY
(RFC 3516). Run by test_server.py (load_extension_tests)."""
import imaplib

from test_server import WithServer, Server, RawClient  # noqa: F401

MIXED = (b"From: Fred <fred@example.org>\r\n"
         b"Subject: parts\r\n"
         b"MIME-Version: 1.0\r\n"
         b"Content-Type: multipart/mixed; boundary=\"B\"\r\n"
         b"\r\n"
         b"--B\r\n"
         b"Content-Type: text/plain; charset=utf-8\r\n"
         b"Content-Transfer-Encoding: quoted-printable\r\n"
         b"\r\n"
         b"caf=C3=A9\r\n"
         b"--B\r\n"
         b"Content-Type: application/octet-stream\r\n"
         b"Content-Transfer-Encoding: base64\r\n"
         b"\r\n"
         b"AAECAw==\r\n"
         b"--B\r\n"
         b"Content-Type: application/octet-stream\r\n"
         b"Content-Transfer-Encoding: x-unknown\r\n"
         b"\r\n"
         b"zz\r\n"
         b"--B--\r\n")


def session(server, messages):
    """A raw client, logged in, with `messages` appended to INBOX, INBOX selected."""
    c = server.raw()
    c.line()
    c.send(b"a LOGIN alice wonderland\r\n")
    c.until_tagged(b"a")
    for m in messages:
        c.send(b"b APPEND INBOX {%d+}\r\n%s\r\n" % (len(m), m))
        assert c.until_tagged(b"b")[-1].startswith(b"b OK"), "APPEND failed"
    c.send(b"s SELECT INBOX\r\n")
    c.until_tagged(b"s")
    return c


def exchange(c, tag, command):
    """Sends `tag command` and returns everything up to the tagged line, raw."""
    c.send(tag + b" " + command + b"\r\n")
    out = b""
    while True:
        line = c.line()
        out += line + b"\r\n"
        if line.startswith(tag + b" "):
            return out
        # A literal: take its bytes as they are.
        if line.endswith(b"}"):
            n = int(line[line.rindex(b"{") + 1:-1])
            while len(c.buf) < n:
                chunk = c.recv()
                if not chunk:
                    raise EOFError("closed inside a literal")
                c.buf += chunk
            out += c.buf[:n]
            c.buf = c.buf[n:]


class FetchExtMove(WithServer):
    def test_move_copyuid_then_expunge_rfc6851_3_3_and_4_3(self):
        c = session(self.server, [b"Subject: one\r\n\r\n1\r\n", b"Subject: two\r\n\r\n2\r\n",
                                  b"Subject: three\r\n\r\n3\r\n"])
        exchange(c, b"c", b"CREATE Archive")
        out = exchange(c, b"d", b"UID MOVE 1:2 Archive")
        lines = out.split(b"\r\n")
        self.assertRegex(lines[0], rb"^\* OK \[COPYUID \d+ 1:2 1:2\] ")
        self.assertEqual(lines[1:4], [b"* 2 EXPUNGE", b"* 1 EXPUNGE", b"d OK MOVE completed"])
        self.assertEqual(exchange(c, b"e", b"STATUS Archive (MESSAGES)"),
                         b"* STATUS Archive (MESSAGES 2)\r\ne OK STATUS completed\r\n")
        self.assertEqual(exchange(c, b"f", b"MOVE 1 Nowhere"),
                         b"f NO [TRYCREATE] No such mailbox\r\n")

    def test_imaplib_move_rfc6851_3_1(self):
        imaplib.Commands.setdefault("MOVE", ("SELECTED",))
        m = self.server.imap()
        m.login("alice", "wonderland")
        m.create("Done")
        m.append("INBOX", None, None, b"Subject: hi\r\n\r\nhello\r\n")
        m.select("INBOX")
        typ, _ = m._simple_command("MOVE", "1", "Done")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.select("INBOX")[1], [b"0"])
        self.assertEqual(m.select("Done")[1], [b"1"])
        typ, data = m.fetch("1", "(BODY.PEEK[TEXT] FLAGS)")
        self.assertEqual(data[0][1], b"hello\r\n")
        self.assertNotIn(b"\\Deleted", data[1])


class FetchExtCondstore(WithServer):
    def test_changedsince_and_unchangedsince_rfc7162_3_1_3_and_3_1_4(self):
        c = session(self.server, [b"Subject: a\r\n\r\na\r\n", b"Subject: b\r\n\r\nb\r\n"])
        out = exchange(c, b"c", b"FETCH 1:* (UID MODSEQ)")
        self.assertRegex(out, rb"^\* OK \[HIGHESTMODSEQ \d+\]")
        lines = out.split(b"\r\n")
        first = int(lines[1].split(b"MODSEQ (")[1].split(b")")[0])
        second = int(lines[2].split(b"MODSEQ (")[1].split(b")")[0])
        self.assertLess(first, second)
        # Only message 2 changed since message 1's mod-sequence.
        out = exchange(c, b"d", b"FETCH 1:* (FLAGS) (CHANGEDSINCE %d)" % first)
        self.assertEqual(out, b"* 2 FETCH (MODSEQ (%d) FLAGS (\\Recent))\r\nd OK FETCH completed\r\n"
                         % second)
        # Message 2 fails UNCHANGEDSINCE first; message 1 passes.
        out = exchange(c, b"e", b"STORE 1:2 (UNCHANGEDSINCE %d) +FLAGS.SILENT (\\Seen)" % first)
        lines = out.split(b"\r\n")
        # RFC 7162 §3.2.4: UID and MODSEQ in every STORE answer.
        self.assertRegex(lines[0], rb"^\* 1 FETCH \(UID 1 MODSEQ \(\d+\)\)$")
        self.assertEqual(lines[1], b"* 2 FETCH (FLAGS (\\Recent) UID 2 MODSEQ (%d))" % second)
        self.assertEqual(lines[2], b"e OK [MODIFIED 2] Conditional STORE failed")


class FetchExtBinary(WithServer):
    def test_binary_decodes_and_literal8_rfc3516_4_2(self):
        c = session(self.server, [MIXED])
        self.assertEqual(exchange(c, b"c", b"FETCH 1 (BINARY.PEEK[1] BINARY.SIZE[2])"),
                         b"* 1 FETCH (BINARY[1] {5}\r\ncaf\xc3\xa9 BINARY.SIZE[2] 4)\r\n"
                         b"c OK FETCH completed\r\n")
        self.assertEqual(exchange(c, b"d", b"FETCH 1 BINARY.PEEK[2]"),
                         b"* 1 FETCH (BINARY[2] ~{4}\r\n\x00\x01\x02\x03)\r\nd OK FETCH completed\r\n")
        self.assertEqual(exchange(c, b"e", b"FETCH 1 BINARY.PEEK[3]"),
                         b"e NO [UNKNOWN-CTE] BINARY[3]: unknown Content-Transfer-Encoding\r\n")


class FetchExtCache(WithServer):
    def test_cached_structure_is_identical_rfc3501_7_4_2(self):
        c = session(self.server, [MIXED])
        ask = b"FETCH 1 (ENVELOPE BODYSTRUCTURE BODY)"
        first = exchange(c, b"c", ask)
        self.assertIn(b"ENVELOPE (NIL \"parts\"", first)
        self.assertEqual(exchange(c, b"c", ask), first)
        # The same answers without the cache.
        plain = Server(extra=["--fetch-cache-kib=0"])
        try:
            d = session(plain, [MIXED])
            self.assertEqual(exchange(d, b"c", ask), first)
        finally:
            plain.stop()
