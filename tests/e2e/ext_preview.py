"""End-to-end tests of PREVIEW (RFC 8970) with a raw client over loopback and
Python's imaplib. Run by test_server.py (load_extension_tests)."""
from test_server import WithServer

PLAIN = b"From: foo@example.com\r\nSubject: a\r\n\r\nLorem   ipsum\r\n\r\ndolor sit amet.\r\n"
HTML = (b"From: bar@example.com\r\nContent-Type: multipart/alternative; boundary=x\r\n\r\n"
        b"--x\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"PHA+S8O2bG4gJmFtcDsgPGI+Qm9ubjwvYj48L3A+\r\n--x--\r\n")
IMAGE = b"Content-Type: image/gif\r\nContent-Transfer-Encoding: base64\r\n\r\nR0lGODlh\r\n"


class Preview(WithServer):
    def setUp(self):
        super().setUp()
        c = self.server.raw()
        c.line()
        c.send(b"a LOGIN alice wonderland\r\n")
        c.until_tagged(b"a")
        for msg in (PLAIN, HTML, IMAGE):
            c.send(b"p APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
            self.assertTrue(c.until_tagged(b"p")[-1].startswith(b"p OK"))
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        self.c = c

    def test_fetch_preview_quoted_literal_and_empty_rfc8970_3_2(self):
        c = self.c
        c.send(b"c CAPABILITY\r\n")
        self.assertIn(b" PREVIEW", c.until_tagged(b"c")[0])
        c.send(b"A1 FETCH 1 (PREVIEW)\r\n")
        self.assertEqual(c.until_tagged(b"A1"), [
            b'* 1 FETCH (PREVIEW "Lorem ipsum dolor sit amet.")', b"A1 OK FETCH completed"])
        c.send(b"A2 FETCH 3 (PREVIEW (LAZY))\r\n")
        self.assertEqual(c.until_tagged(b"A2"), [b'* 3 FETCH (PREVIEW "")', b"A2 OK FETCH completed"])

    def test_imaplib_decodes_html_base64_utf8_rfc8970_3_3(self):
        self.c.send(b"l LOGOUT\r\n")
        m = self.server.imap()
        m.login("alice", "wonderland")
        m.select("INBOX")
        typ, data = m.fetch("2", "(PREVIEW)")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1].decode("utf-8"), "Köln & Bonn")
        m.logout()

    def test_searchres_and_preview_example_3_rfc8970_5(self):
        c = self.c
        c.send(b'C2 SEARCH RETURN (SAVE) FROM "FOO"\r\nC3 FETCH $ (UID PREVIEW (LAZY))\r\n')
        self.assertEqual(c.until_tagged(b"C2"), [b"C2 OK SEARCH completed"])
        self.assertEqual(c.until_tagged(b"C3"), [
            b'* 1 FETCH (UID 1 PREVIEW "Lorem ipsum dolor sit amet.")', b"C3 OK FETCH completed"])
