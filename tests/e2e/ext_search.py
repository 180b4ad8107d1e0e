"""End-to-end tests of SEARCH over decoded text (RFC 3501 §6.4.4 with RFC 2045
§6.7, §6.8 and RFC 2047), ESEARCH (RFC 4731) and SEARCH MODSEQ (RFC 7162
§3.1.5), with Python's imaplib and a raw client. Run by test_server.py
(load_extension_tests)."""
import base64
import re

from test_server import WithServer


def login_raw(server):
    c = server.raw()
    c.line()  # greeting
    c.send(b"a LOGIN alice wonderland\r\n")
    c.until_tagged(b"a")
    return c


ENCODED = (b"From: =?ISO-8859-1?Q?Andr=E9_Pirard?= <pirard@example.org>\r\n"
           b"Subject: =?utf-8?B?R3LDvMOfZQ==?= =?utf-8?q?_aus_K=C3=B6ln?=\r\n"
           b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
           b"\r\n"
           b"--b1\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n"
           b"Content-Transfer-Encoding: quoted-printable\r\n"
           b"\r\n"
           b"Caf=C3=A9 au lait, a soft=\r\nbreak.\r\n"
           b"--b1\r\n"
           b"Content-Type: text/plain; charset=iso-8859-1\r\n"
           b"Content-Transfer-Encoding: base64\r\n"
           b"\r\n"
           b"SGVsbG8gd29ybGQg6WzodmU=\r\n"
           b"--b1--\r\n")
PLAIN = b"From: smith@example.com\r\nSubject: plain\r\n\r\nNothing =41 encoded.\r\n"


class SearchDecoded(WithServer):
    def test_imaplib_header_and_body_keys_match_decoded_text_rfc3501_6_4_4(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        m.append("INBOX", None, None, ENCODED)
        m.append("INBOX", None, None, PLAIN)
        m.select("INBOX")
        m.literal = "Grüße aus Köln".encode()
        self.assertEqual(m.search("UTF-8", "SUBJECT"), ("OK", [b"1"]))
        m.literal = "andré pirard".encode()
        self.assertEqual(m.search("UTF-8", "FROM"), ("OK", [b"1"]))
        m.literal = "café AU LAIT".encode()
        self.assertEqual(m.search("UTF-8", "BODY"), ("OK", [b"1"]))
        m.literal = "world élève".encode()
        self.assertEqual(m.search("UTF-8", "TEXT"), ("OK", [b"1"]))
        self.assertEqual(m.search(None, "BODY", "softbreak"), ("OK", [b"1"]))
        self.assertEqual(m.search(None, "BODY", "SGVsbG8"), ("OK", [b""]))
        self.assertEqual(m.search(None, "BODY", '"=41 encoded"'), ("OK", [b"2"]))
        self.assertEqual(m.search(None, "TEXT", "pirard"), ("OK", [b"1"]))
        self.assertEqual(m.search(None, "BODY", "pirard"), ("OK", [b""]))
        m.logout()

    def test_body_search_over_large_base64_parts_rfc2045_6_8(self):
        c = login_raw(self.server)
        filler = bytes(range(256)) * 160  # 40 KiB per message, binary
        for i in range(40):
            payload = filler + (b"needle number %d" % i if i in (7, 33) else b"")
            b64 = base64.encodebytes(payload).replace(b"\n", b"\r\n")
            msg = (b"Subject: attachment %d\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n"
                   b"--x\r\nContent-Type: application/octet-stream\r\n"
                   b"Content-Transfer-Encoding: base64\r\n\r\n" % i) + b64 + b"--x--\r\n"
            c.send(b"p APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
            self.assertTrue(c.until_tagged(b"p")[-1].startswith(b"p OK"))
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        c.send(b"b SEARCH BODY \"NEEDLE NUMBER\"\r\n")
        self.assertEqual(c.until_tagged(b"b"), [b"* SEARCH 8 34", b"b OK SEARCH completed"])
        c.send(b"u UID SEARCH RETURN (MIN MAX COUNT ALL) BODY \"needle number\"\r\n")
        self.assertEqual(c.until_tagged(b"u"), [
            b'* ESEARCH (TAG "u") UID MIN 8 MAX 34 COUNT 2 ALL 8,34', b"u OK SEARCH completed"])


class Esearch(WithServer):
    def test_search_return_min_max_count_all_rfc4731_3_1(self):
        c = login_raw(self.server)
        for i in range(1, 13):
            flags = b"(\\Flagged) " if i <= 3 or i in (6, 9, 10) else b""
            msg = b"Subject: m%d\r\n\r\nbody\r\n" % i
            c.send(b"p APPEND INBOX " + flags + b"{%d+}\r\n" % len(msg) + msg + b"\r\n")
            c.until_tagged(b"p")
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        c.send(b"A282 SEARCH RETURN (MIN MAX COUNT ALL) FLAGGED\r\n")
        self.assertEqual(c.until_tagged(b"A282"), [
            b'* ESEARCH (TAG "A282") MIN 1 MAX 10 COUNT 6 ALL 1:3,6,9:10',
            b"A282 OK SEARCH completed"])
        c.send(b"A283 SEARCH RETURN () FLAGGED\r\n")
        self.assertEqual(c.until_tagged(b"A283")[0], b'* ESEARCH (TAG "A283") ALL 1:3,6,9:10')
        c.send(b"A285 UID SEARCH RETURN (MIN MAX) 1:5000\r\n")
        self.assertEqual(c.until_tagged(b"A285")[0], b'* ESEARCH (TAG "A285") UID MIN 1 MAX 12')
        c.send(b"x SEARCH RETURN (MIN MAX ALL) DELETED\r\n")
        self.assertEqual(c.until_tagged(b"x"), [b'* ESEARCH (TAG "x")', b"x OK SEARCH completed"])
        c.send(b"y UID SEARCH RETURN (COUNT) DELETED\r\n")
        self.assertEqual(c.until_tagged(b"y")[0], b'* ESEARCH (TAG "y") UID COUNT 0')

    def test_a_long_all_is_a_valid_sequence_set_rfc4731_3_1(self):
        c = login_raw(self.server)
        for i in range(300):
            msg = b"Subject: n\r\n\r\nb\r\n"
            c.send(b"p APPEND INBOX {%d+}\r\n" % len(msg) + msg + b"\r\n")
        for i in range(300):
            c.until_tagged(b"p")
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        odd = b",".join(b"%d" % i for i in range(1, 301, 2))
        c.send(b"f STORE " + odd + b" +FLAGS.SILENT (\\Flagged)\r\n")
        c.until_tagged(b"f")
        c.send(b"e SEARCH RETURN (MIN MAX COUNT ALL) FLAGGED\r\n")
        lines = c.until_tagged(b"e")
        self.assertEqual(lines[-1], b"e OK SEARCH completed")
        data = lines[0]
        m = re.fullmatch(rb'\* ESEARCH \(TAG "e"\)( [A-Z]+ [0-9:,]+)+', data)
        self.assertTrue(m, data)
        items = dict(re.findall(rb" ([A-Z]+) ([0-9:,]+)", data))
        self.assertEqual(items, {b"MIN": b"1", b"MAX": b"299", b"COUNT": b"150", b"ALL": odd})


class SearchModseq(WithServer):
    def test_search_modseq_enables_condstore_rfc7162_3_1_5(self):
        c = login_raw(self.server)
        for i in range(5):
            c.send(b"p APPEND INBOX {13+}\r\nSubject: m\r\n\r\n")
            c.until_tagged(b"p")
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        c.send(b"f STORE 2,4 +FLAGS.SILENT (\\Draft)\r\n")
        c.until_tagged(b"f")
        c.send(b'a SEARCH MODSEQ "/flags/\\\\draft" all 1\r\n')
        lines = c.until_tagged(b"a")
        m = re.fullmatch(rb"\* OK \[HIGHESTMODSEQ ([0-9]+)\].*", lines[0])
        self.assertTrue(m, lines)
        high = int(m.group(1))
        self.assertEqual(lines[1:], [b"* SEARCH 1 2 3 4 5 (MODSEQ %d)" % high,
                                     b"a OK SEARCH completed"])
        c.send(b"b SEARCH MODSEQ %d\r\n" % high)
        self.assertEqual(c.until_tagged(b"b")[0], b"* SEARCH 2 4 (MODSEQ %d)" % high)
        c.send(b"c SEARCH MODSEQ %d\r\n" % (high + 1))
        self.assertEqual(c.until_tagged(b"c")[0], b"* SEARCH")
        c.send(b"e UID SEARCH RETURN (ALL) MODSEQ 1\r\n")
        self.assertEqual(c.until_tagged(b"e")[0], b'* ESEARCH (TAG "e") UID ALL 1:5 MODSEQ %d' % high)
