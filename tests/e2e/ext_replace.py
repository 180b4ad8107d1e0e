"""End-to-end tests of REPLACE and UID REPLACE (RFC 8508) with the RFC's
examples: the new message is appended (APPENDUID in an untagged OK, §4.3),
the replaced one expunged, as one action; nothing changes when the append
cannot be done (§3.4). Run by test_server.py (load_extension_tests)."""
from test_server import WithServer

# RFC 8508 §3.2's example message (312 bytes with CRLF line ends).
DRAFT = (b"Date: Thu, 1 Jan 2015 00:05:00 -0500 (EST)\r\n"
         b"From: Fritz Schmidt <fritz.ze@example.org>\r\n"
         b"Subject: happy new year !!\r\n"
         b"To: miss.mitzy@example.org\r\n"
         b"Message-Id: <B238822388-0100000@example.org>\r\n"
         b"MIME-Version: 1.0\r\n"
         b"Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n"
         b"\r\n"
         b"Just saw the best fireworks show. Wish you were here.\r\n"
         b"\r\n")
# §3.3's (350 bytes), one line longer.
DRAFT2 = DRAFT.replace(b"0:05:00", b"0:06:00").replace(b"388-01", b"389-01").replace(
    b"here.\r\n", b"here.\r\nHopefully next year you can join us.\r\n")


def say(c, tag, command):
    c.send(tag + b" " + command + b"\r\n")
    return c.until_tagged(tag)


class Replace(WithServer):
    def drafts(self):
        """alice with Drafts holding four messages, selected."""
        c = self.server.raw()
        c.line()
        say(c, b"a", b"LOGIN alice wonderland")
        say(c, b"c", b"CREATE Drafts")
        for i in range(4):
            body = b"draft %d\r\n" % i
            self.assertTrue(say(c, b"p", b"APPEND Drafts (\\Draft) {%d+}\r\n" % len(body) + body)
                            [-1].startswith(b"p OK [APPENDUID"))
        self.assertEqual(say(c, b"s", b"SELECT Drafts")[-1], b"s OK [READ-WRITE] SELECT completed")
        return c

    def test_capability_advertises_replace_rfc8508_3_1(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        self.assertIn("REPLACE", m.capabilities)
        m.logout()

    def test_replace_example_rfc8508_3_2(self):
        c = self.drafts()
        self.assertEqual(len(DRAFT), 312)
        c.send(b"A003 REPLACE 4 Drafts (\\Seen \\Draft) {312}\r\n")
        self.assertTrue(c.line().startswith(b"+ "))
        c.send(DRAFT + b"\r\n")
        lines = c.until_tagged(b"A003")
        self.assertRegex(lines[0], rb"^\* OK \[APPENDUID \d+ 5\] ")
        self.assertIn(b"* 5 EXISTS", lines)
        self.assertIn(b"* 4 EXPUNGE", lines)
        self.assertLess(lines.index(b"* 5 EXISTS"), lines.index(b"* 4 EXPUNGE"))
        self.assertEqual(lines[-1], b"A003 OK REPLACE completed")
        got = say(c, b"f", b"FETCH 4 (UID FLAGS BODY.PEEK[])")
        self.assertTrue(got[0].startswith(b"* 4 FETCH (UID 5 FLAGS (\\Seen \\Draft \\Recent) "))

    def test_uid_replace_example_rfc8508_3_3(self):
        c = self.drafts()
        self.assertEqual(len(DRAFT2), 350)
        c.send(b"A004 UID REPLACE 4 Drafts (\\Seen \\Draft) {350}\r\n")
        self.assertTrue(c.line().startswith(b"+ "))
        c.send(DRAFT2 + b"\r\n")
        lines = c.until_tagged(b"A004")
        self.assertRegex(lines[0], rb"^\* OK \[APPENDUID \d+ 5\] ")
        self.assertEqual(lines[-1], b"A004 OK REPLACE completed")
        self.assertIn(b"* 4 EXPUNGE", lines)
        self.assertEqual(say(c, b"f", b"UID FETCH 1:* UID"),
                         [b"* 1 FETCH (UID 1)", b"* 2 FETCH (UID 2)", b"* 3 FETCH (UID 3)",
                          b"* 4 FETCH (UID 5)", b"f OK FETCH completed"])

    def test_replace_into_sent_after_submission_rfc8508_3_4(self):
        c = self.drafts()
        say(c, b"c", b"CREATE Sent")
        lines = say(c, b"r", b"UID REPLACE 2 Sent (\\Seen) {%d+}\r\n" % len(DRAFT) + DRAFT)
        self.assertEqual(lines[1:], [b"* 2 EXPUNGE", b"r OK REPLACE completed"])
        self.assertIn(b"* STATUS Sent (MESSAGES 1)", say(c, b"s", b"STATUS Sent (MESSAGES)"))

    def test_failed_replace_leaves_the_mailbox_unchanged_rfc8508_3_4(self):
        c = self.drafts()
        # TRYCREATE (RFC 3501 §6.3.11) before the literal is sent.
        self.assertEqual(say(c, b"t", b"REPLACE 1 Nowhere {3}"),
                         [b"t NO [TRYCREATE] No such mailbox"])
        self.assertEqual(say(c, b"u", b"UID REPLACE 77 Drafts {3}"),
                         [b"u NO No message with that UID"])
        self.assertEqual(say(c, b"n", b"NOOP"), [b"n OK NOOP completed"])
        self.assertIn(b"* STATUS Drafts (MESSAGES 4)", say(c, b"s", b"STATUS Drafts (MESSAGES)"))

    def test_replace_needs_a_selected_mailbox_rfc8508_3_5(self):
        c = self.server.raw()
        c.line()
        say(c, b"a", b"LOGIN alice wonderland")
        self.assertEqual(say(c, b"r", b"REPLACE 1 INBOX {3}"), [b"r BAD No mailbox selected"])
