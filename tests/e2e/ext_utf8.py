"""End-to-end tests of UTF8=ACCEPT (RFC 6855) over loopback: Python's
imaplib after its enable("UTF8=ACCEPT") (UTF-8 mailbox names in quoted
strings), and a raw client for APPEND's UTF8 data extension (imaplib's
append() wraps the whole literal, "UTF8 (" included, in one "{n}", so it
cannot send it) and for the rules a session without ENABLE keeps: the
RFC 6855 §7 downgrade (ENVELOPE/BODYSTRUCTURE strings as RFC 2047 encoded
words, decoded here with email.header; RFC 6858 §2.1 placeholders for
UTF-8 addresses). Run by test_server.py (load_extension_tests)."""
import email.header
import re

from test_server import WithServer, run_tool

ENTWUERFE = "Entwürfe"
MESSAGE = ("From: Jörg <jörg@example.org>\r\nSubject: Grüße\r\n\r\nHallo\r\n").encode()


# RFC 6855 §7 downgrade: a subject longer than one encoded word's 45 bytes,
# an address with a UTF-8 local part and domain, an ASCII one with a UTF-8
# display name.
LONG_SUBJECT = "Grüße aus Köln — 日本語の件名はとても長いです、本当に長い"
DOWNGRADE_MESSAGE = ("From: Jörg Müller <jörg@bücher.example>\r\n"
                     "To: Zoë <zoe@example.org>\r\n"
                     "Subject: " + LONG_SUBJECT + "\r\n\r\nHallo\r\n").encode()


def quoted_strings(line):
    """The NIL atoms and quoted strings of an ENVELOPE line, in order."""
    return [None if t == b"NIL" else t[1:-1].decode("ascii")
            for t in re.findall(rb'NIL|"[^"\\]*"', line)]


def decoded(words):
    return str(email.header.make_header(email.header.decode_header(words)))


def login(server):
    c = server.raw()
    c.line()
    c.send(b"a LOGIN alice wonderland\r\n")
    assert c.until_tagged(b"a")[-1].startswith(b"a OK")
    return c


def enable(c):
    c.send(b"e ENABLE UTF8=ACCEPT\r\n")
    assert c.until_tagged(b"e") == [b"* ENABLED UTF8=ACCEPT", b"e OK ENABLE completed"]


class Utf8Accept(WithServer):
    def test_imaplib_utf8_mailbox_names_rfc6855_3(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        self.assertIn("UTF8=ACCEPT", m.capabilities)
        typ, _ = m.enable("UTF8=ACCEPT")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.get("ENABLED"), [b"UTF8=ACCEPT"])
        self.assertEqual(m.create('"%s"' % ENTWUERFE)[0], "OK")
        typ, data = m.list('""', '"Entw*"')
        self.assertEqual(typ, "OK")
        # The name comes back in UTF-8 (as a literal: an item of data is a
        # tuple of the line's head and the literal).
        self.assertEqual(data[0][1], ENTWUERFE.encode())
        typ, data = m.select('"%s"' % ENTWUERFE)
        self.assertEqual(typ, "OK")
        m.logout()
        # A session that did not enable it sees modified UTF-7.
        c = login(self.server)
        c.send(b'l LIST "" "Entw*"\r\n')
        self.assertEqual(c.until_tagged(b"l"), [b'* LIST (\\HasNoChildren) "/" Entw&APw-rfe',
                                                b"l OK LIST completed"])
        c.close()

    def test_append_utf8_data_extension_and_fetch_rfc6855_4(self):
        c = login(self.server)
        enable(c)
        c.send(b"a APPEND INBOX UTF8 (~{%d}\r\n" % len(MESSAGE))
        self.assertEqual(c.line(), b"+ Ready for the message")
        c.send(MESSAGE + b")\r\n")
        self.assertTrue(c.until_tagged(b"a")[-1].startswith(b"a OK [APPENDUID "))
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        c.send(b"f FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])\r\n")
        lines = c.until_tagged(b"f")
        self.assertIn("Subject: Grüße".encode(), lines)
        # SEARCH takes UTF-8 in a quoted string, and no CHARSET (§3).
        c.send('t SEARCH SUBJECT "grüße"\r\n'.encode())
        self.assertEqual(c.until_tagged(b"t"), [b"* SEARCH 1", b"t OK SEARCH completed"])
        c.send(b"t SEARCH CHARSET UTF-8 ALL\r\n")
        self.assertEqual(c.until_tagged(b"t"),
                         [b"t BAD SEARCH with CHARSET after ENABLE UTF8=ACCEPT"])
        c.close()

    def test_bad_utf8_in_a_quoted_string_is_bad_rfc6855_3(self):
        c = login(self.server)
        enable(c)
        c.send(b'b CREATE "caf\xc3"\r\n')
        self.assertEqual(c.until_tagged(b"b"), [b"b BAD Invalid UTF-8 in quoted string"])
        c.send(b"n NOOP\r\n")
        self.assertEqual(c.until_tagged(b"n"), [b"n OK NOOP completed"])
        c.close()

    def test_legacy_append_with_8bit_header_is_no_rfc6855_4(self):
        c = login(self.server)
        c.send(b"a APPEND INBOX {%d+}\r\n" % len(MESSAGE) + MESSAGE + b"\r\n")
        self.assertEqual(c.until_tagged(b"a"), [
            b"a NO 8-bit characters in a message header need ENABLE UTF8=ACCEPT (RFC 6855)"])
        c.send(b"s STATUS INBOX (MESSAGES)\r\n")
        self.assertEqual(c.until_tagged(b"s")[0], b"* STATUS INBOX (MESSAGES 0)")
        c.close()

    def test_legacy_session_gets_encoded_words_rfc6855_7(self):
        c = login(self.server)
        enable(c)
        c.send(b"a APPEND INBOX UTF8 (~{%d+}\r\n" % len(DOWNGRADE_MESSAGE) + DOWNGRADE_MESSAGE
               + b")\r\n")
        self.assertTrue(c.until_tagged(b"a")[-1].startswith(b"a OK [APPENDUID "))
        c.close()

        m = self.server.imap()  # never enables UTF8=ACCEPT
        m.login("alice", "wonderland")
        self.assertEqual(m.select("INBOX")[0], "OK")
        typ, data = m.fetch("1", "(ENVELOPE)")
        self.assertEqual(typ, "OK")
        line = data[0]
        # Only quoted strings, 7-bit: no literal, no 8-bit byte.
        self.assertIsInstance(line, bytes)
        line.decode("ascii")
        t = quoted_strings(line.split(b"ENVELOPE ", 1)[1])
        # date subject (from: name adl mailbox host) ...
        self.assertIsNone(t[0])
        subject = t[1]
        words = subject.split(" ")
        self.assertGreater(len(words), 1)
        for w in words:  # RFC 2047 §2: at most 75 characters each
            self.assertLessEqual(len(w), 75)
            self.assertTrue(w.startswith("=?UTF-8?"))
        self.assertEqual(decoded(subject), LONG_SUBJECT)
        # RFC 6858 §2.1: the UTF-8 address in the display name, a placeholder
        # address.
        self.assertEqual(decoded(t[2]), "Jörg Müller <jörg@bücher.example>")
        self.assertEqual(t[3:6], [None, "invalid", "internationalized-address.invalid"])
        # To: the ASCII address kept, its display name encoded.
        to = t[14:18]
        self.assertEqual(decoded(to[0]), "Zoë")
        self.assertEqual(to[1:], [None, "zoe", "example.org"])
        # The message itself is unchanged (sizes, header bytes).
        typ, data = m.fetch("1", "(RFC822.SIZE BODY.PEEK[HEADER])")
        self.assertIn(b"RFC822.SIZE %d " % len(DOWNGRADE_MESSAGE), data[0][0])
        self.assertEqual(data[0][1], DOWNGRADE_MESSAGE.split(b"\r\n\r\n")[0] + b"\r\n\r\n")
        m.logout()

        # A session that enabled UTF8=ACCEPT gets the raw UTF-8.
        u = self.server.imap()
        u.login("alice", "wonderland")
        self.assertEqual(u.enable("UTF8=ACCEPT")[0], "OK")
        self.assertEqual(u.select("INBOX")[0], "OK")
        typ, data = u.fetch("1", "(ENVELOPE)")
        self.assertEqual(typ, "OK")
        raw = b"".join(p if isinstance(p, bytes) else b"".join(p) for p in data)
        self.assertIn(LONG_SUBJECT.encode(), raw)
        self.assertIn("jörg".encode(), raw)
        self.assertNotIn(b"=?UTF-8?", raw)
        u.logout()

    def test_delivered_attachment_name_downgraded_rfc6855_7(self):
        # Delivered by the MTA (tinyimapd deliver, bare LFs): BODYSTRUCTURE's
        # parameter values and description as encoded words for a legacy
        # client; a 7-bit message's answer is the same for both kinds.
        r = run_tool(self.server, "deliver", "-u", "alice", input=(
            "From: a@example.org\nSubject: files\nMIME-Version: 1.0\n"
            "Content-Type: application/pdf; name=\"résumé.pdf\"\n"
            "Content-Description: Lebenslauf für Jörg\n"
            "Content-Transfer-Encoding: base64\n\nQUJD\n").encode())
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run_tool(self.server, "deliver", "-u", "alice",
                     input=b"From: a@example.org\nSubject: plain\n\nhello\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = self.server.imap()
        m.login("alice", "wonderland")
        self.assertEqual(m.select("INBOX")[0], "OK")
        typ, data = m.fetch("1", "(BODYSTRUCTURE)")
        self.assertEqual(typ, "OK")
        t = quoted_strings(data[0].split(b"BODYSTRUCTURE ", 1)[1])
        self.assertEqual(t[:3], ["application", "pdf", "name"])
        self.assertEqual(decoded(t[3]), "résumé.pdf")
        self.assertEqual(decoded(t[5]), "Lebenslauf für Jörg")
        legacy_plain = m.fetch("2", "(ENVELOPE BODYSTRUCTURE)")[1]
        m.logout()
        u = self.server.imap()
        u.login("alice", "wonderland")
        self.assertEqual(u.enable("UTF8=ACCEPT")[0], "OK")
        self.assertEqual(u.select("INBOX")[0], "OK")
        self.assertEqual(u.fetch("2", "(ENVELOPE BODYSTRUCTURE)")[1], legacy_plain)
        typ, data = u.fetch("1", "(BODYSTRUCTURE)")
        raw = b"".join(p if isinstance(p, bytes) else b"".join(p) for p in data)
        self.assertIn("résumé.pdf".encode(), raw)
        u.logout()
