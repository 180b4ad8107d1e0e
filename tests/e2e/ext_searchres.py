"""End-to-end tests of SEARCHRES (RFC 5182): SEARCH RETURN (SAVE) and "$",
with a raw client over loopback and with Python's imaplib. Run by
test_server.py (load_extension_tests)."""
from test_server import WithServer


def login_raw(server):
    c = server.raw()
    c.line()  # greeting
    c.send(b"a LOGIN alice wonderland\r\n")
    c.until_tagged(b"a")
    return c


def fill(c, count, flagged):
    for i in range(1, count + 1):
        flags = b"(\\Flagged) " if i in flagged else b""
        msg = b"From: %s\r\nSubject: m%d\r\n\r\nbody\r\n" % (
            b"smith@example.com" if i == 2 else b"eric@example.com", i)
        c.send(b"p APPEND INBOX " + flags + b"{%d+}\r\n" % len(msg) + msg + b"\r\n")
        c.until_tagged(b"p")
    c.send(b"s SELECT INBOX\r\n")
    c.until_tagged(b"s")


class SearchRes(WithServer):
    def test_capability_rfc5182_3(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        self.assertIn("SEARCHRES", m.capabilities)
        m.logout()

    def test_examples_1_and_2_save_then_fetch_pipelined_rfc5182_2_2(self):
        c = login_raw(self.server)
        fill(c, 6, {1, 2, 4, 6})
        # Example 1: SAVE alone gives no ESEARCH response, only the tagged OK.
        c.send(b'A282 SEARCH RETURN (SAVE) FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith"\r\n')
        self.assertEqual(c.until_tagged(b"A282"), [b"A282 OK SEARCH completed"])
        c.send(b"A283 FETCH $ (UID)\r\n")
        self.assertEqual(c.until_tagged(b"A283"), [
            b"* 1 FETCH (UID 1)", b"* 4 FETCH (UID 4)", b"* 6 FETCH (UID 6)",
            b"A283 OK FETCH completed"])
        # Example 2: pipelined, executed in order (§2.3).
        c.send(b'B282 SEARCH RETURN (SAVE) FLAGGED FROM "Smith"\r\nB283 FETCH $ (UID)\r\n')
        self.assertEqual(c.until_tagged(b"B282"), [b"B282 OK SEARCH completed"])
        self.assertEqual(c.until_tagged(b"B283"), [b"* 2 FETCH (UID 2)", b"B283 OK FETCH completed"])

    def test_examples_3_4_and_10_dollar_in_search_and_esearch_rfc5182_2_4(self):
        c = login_raw(self.server)
        fill(c, 6, {1, 2, 4, 6})
        c.send(b"C283 SEARCH RETURN (ALL SAVE) FLAGGED\r\n")
        self.assertEqual(c.until_tagged(b"C283"), [
            b'* ESEARCH (TAG "C283") ALL 1:2,4,6', b"C283 OK SEARCH completed"])
        c.send(b"A301 UID SEARCH UID $ NOT 2\r\n")
        self.assertEqual(c.until_tagged(b"A301"), [b"* SEARCH 1 4 6", b"A301 OK SEARCH completed"])
        c.send(b"P283 SEARCH CHARSET UTF-8 (OR $ 3) TEXT body\r\n")
        self.assertEqual(c.until_tagged(b"P283"), [
            b"* SEARCH 1 2 3 4 6", b"P283 OK SEARCH completed"])
        c.send(b"C285 SEARCH RETURN (MAX SAVE MIN) FLAGGED\r\n")
        self.assertEqual(c.until_tagged(b"C285"), [
            b'* ESEARCH (TAG "C285") MIN 1 MAX 6', b"C285 OK SEARCH completed"])
        c.send(b"d SEARCH $\r\n")
        self.assertEqual(c.until_tagged(b"d"), [b"* SEARCH 1 6", b"d OK SEARCH completed"])

    def test_examples_6_and_7_copy_store_with_dollar_rfc5182_2_3(self):
        c = login_raw(self.server)
        c.send(b"c CREATE Junk\r\n")
        c.until_tagged(b"c")
        fill(c, 5, set())
        # Example 6: "$" before any SAVE (and an empty one) matches nothing.
        c.send(b'E283 COPY $ "Junk"\r\n')
        self.assertEqual(c.until_tagged(b"E283"), [b"E283 OK COPY completed"])
        c.send(b"k STORE 2,5 +FLAGS.SILENT ($Junk)\r\n")
        c.until_tagged(b"k")
        c.send(b"F282 SEARCH RETURN (SAVE) KEYWORD $Junk\r\n"
               b'F283 COPY $ "Junk"\r\n'
               b"F284 STORE $ +FLAGS.Silent (\\Deleted)\r\n")
        self.assertEqual(c.until_tagged(b"F282"), [b"F282 OK SEARCH completed"])
        self.assertTrue(c.until_tagged(b"F283")[-1].startswith(b"F283 OK [COPYUID "))
        self.assertEqual(c.until_tagged(b"F284"), [b"F284 OK STORE completed"])
        c.send(b"e UID EXPUNGE $\r\n")
        lines = c.until_tagged(b"e")
        self.assertEqual(sorted(lines[:-1]), [b"* 2 EXPUNGE", b"* 5 EXPUNGE"])
        self.assertEqual(lines[-1], b"e OK EXPUNGE completed")
        # The expunged messages left "$" (§2.1).
        c.send(b"f FETCH $ (UID)\r\n")
        self.assertEqual(c.until_tagged(b"f"), [b"f OK FETCH completed"])
        c.send(b"j STATUS Junk (MESSAGES)\r\n")
        self.assertEqual(c.until_tagged(b"j")[0], b"* STATUS Junk (MESSAGES 2)")

    def test_select_resets_and_notsaved_rfc5182_2_1_2_5(self):
        c = login_raw(self.server)
        fill(c, 140, set(range(1, 141, 2)))
        c.send(b"a SEARCH RETURN (SAVE) FLAGGED 1:10\r\n")
        self.assertEqual(c.until_tagged(b"a"), [b"a OK SEARCH completed"])
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        c.send(b"f FETCH $ (UID)\r\n")
        self.assertEqual(c.until_tagged(b"f"), [b"f OK FETCH completed"])
        # 70 separate ranges: more than the server keeps.
        c.send(b"b SEARCH RETURN (SAVE COUNT) FLAGGED\r\n")
        lines = c.until_tagged(b"b")
        self.assertEqual(lines[0], b'* ESEARCH (TAG "b") COUNT 70')
        self.assertTrue(lines[1].startswith(b"b NO [NOTSAVED] "), lines)
        c.send(b"g SEARCH $\r\n")
        self.assertEqual(c.until_tagged(b"g"), [b"* SEARCH", b"g OK SEARCH completed"])
        c.send(b"h FETCH 1,$ (UID)\r\n")
        self.assertTrue(c.until_tagged(b"h")[-1].startswith(b"h BAD "))

    def test_imaplib_uid_search_save_then_uid_fetch_rfc5182_2_1(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        for i in range(4):
            m.append("INBOX", "(\\Seen)" if i % 2 else None, None, b"Subject: x\r\n\r\nb\r\n")
        m.select("INBOX")
        typ, data = m.uid("SEARCH", "RETURN", "(SAVE)", "SEEN")
        self.assertEqual(typ, "OK")
        typ, data = m.uid("FETCH", "$", "(FLAGS)")
        self.assertEqual(typ, "OK")
        self.assertEqual([d for d in data if d], [b"2 (UID 2 FLAGS (\\Seen \\Recent))",
                                                  b"4 (UID 4 FLAGS (\\Seen \\Recent))"])
        m.logout()
