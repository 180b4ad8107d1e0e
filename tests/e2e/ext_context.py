"""End-to-end tests of CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4):
one session keeps an updating context (UID SEARCH RETURN (UPDATE)), another
APPENDs, STOREs and EXPUNGEs; the first is told with ESEARCH ADDTO and
REMOVEFROM. Python's imaplib for both sessions, a raw client where the order
of the responses matters. Run by test_server.py (load_extension_tests)."""
import imaplib
import time

import test_server
from test_server import WithServer


# imaplib knows no CANCELUPDATE (RFC 5267 §4.3.5, selected state).
imaplib.Commands.setdefault("CANCELUPDATE", ("SELECTED",))


def fill(m, count):
    for i in range(count):
        typ, _ = m.append("INBOX", None, None, b"Subject: c%d\r\n\r\nbody\r\n" % i)
        assert typ == "OK"


def esearch(m):
    """The ESEARCH responses imaplib gathered since the last call."""
    data = m.untagged_responses.pop("ESEARCH", [])
    return [d.decode() if isinstance(d, bytes) else d for d in data]


def noop_until(m, want, tries=20):
    """NOOP until an ESEARCH response containing `want` arrives (another
    session's change reaches this one at its next report)."""
    got = []
    for _ in range(tries):
        m.noop()
        got += esearch(m)
        if any(want in g for g in got):
            return got
        time.sleep(0.05 * test_server.SLOW)
    return got


def login_raw(server):
    c = server.raw()
    c.line()  # greeting
    c.send(b"a LOGIN alice wonderland\r\n")
    c.until_tagged(b"a")
    return c


class Context(WithServer):
    def test_capability_rfc5267_4_1(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        self.assertIn("CONTEXT=SEARCH", m.capabilities)
        self.assertIn("CONTEXT=SORT", m.capabilities)
        m.logout()

    def test_updates_from_another_session_rfc5267_4_3(self):
        a = self.server.imap()
        a.login("alice", "wonderland")
        fill(a, 3)
        a.select("INBOX")
        b = self.server.imap()
        b.login("alice", "wonderland")
        b.select("INBOX")
        # UIDs 1..3, all unseen. imaplib chooses the tag: the correlator.
        tag = a._command("UID", "SEARCH", "RETURN", "(UPDATE COUNT)", "UNSEEN")
        typ, _ = a._command_complete("UID", tag)
        self.assertEqual(typ, "OK")
        t = '(TAG "%s")' % tag.decode()
        self.assertEqual(esearch(a), [t + " UID COUNT 3"])
        # STORE by another session: REMOVEFROM.
        b.store("2", "+FLAGS", "(\\Seen)")
        self.assertIn(t + " UID REMOVEFROM (0 2)", noop_until(a, "REMOVEFROM"))
        # APPEND by another session: ADDTO.
        fill(b, 1)
        self.assertIn(t + " UID ADDTO (0 4)", noop_until(a, "ADDTO"))
        # EXPUNGE by another session: REMOVEFROM (before its EXPUNGE).
        b.store("1", "+FLAGS", "(\\Deleted)")
        b.expunge()
        got = noop_until(a, "REMOVEFROM (0 1)")
        self.assertIn(t + " UID REMOVEFROM (0 1)", got)
        # CANCELUPDATE (§4.3.5): nothing more.
        typ, _ = a._simple_command("CANCELUPDATE", '"%s"' % tag.decode())
        self.assertEqual(typ, "OK")
        b.store("1:*", "-FLAGS", "(\\Seen)")
        a.noop()
        time.sleep(0.1 * test_server.SLOW)
        a.noop()
        self.assertEqual(esearch(a), [])
        a.logout()
        b.logout()

    def test_order_and_own_changes_rfc5267_4_3_3_4_3_4(self):
        a = login_raw(self.server)
        b = self.server.imap()
        b.login("alice", "wonderland")
        fill(b, 4)
        b.select("INBOX")
        a.send(b"s SELECT INBOX\r\n")
        a.until_tagged(b"s")
        a.send(b"C01 SEARCH RETURN (UPDATE) UNDELETED UNSEEN\r\n")
        self.assertEqual(a.until_tagged(b"C01"), [
            b'* ESEARCH (TAG "C01") ALL 1:4', b"C01 OK SEARCH completed"])
        # §4.3: a tag in use by an updating context is BAD with UPDATE.
        a.send(b"C01 SORT RETURN (UPDATE) (ARRIVAL) UTF-8 ALL\r\n")
        self.assertTrue(a.until_tagged(b"C01")[-1].startswith(b"C01 BAD "))
        # Sequence numbers: REMOVEFROM before the EXPUNGE it belongs to.
        b.store("2", "+FLAGS.SILENT", "(\\Flagged)")
        b._simple_command("UID", "EXPUNGE", "2")  # nothing \Deleted: no-op
        b.store("3", "+FLAGS", "(\\Deleted)")
        b.expunge()
        lines = []
        for _ in range(20):
            a.send(b"n NOOP\r\n")
            lines += a.until_tagged(b"n")
            if b"* 3 EXPUNGE" in lines:
                break
            time.sleep(0.05 * test_server.SLOW)
        self.assertIn(b'* ESEARCH (TAG "C01") REMOVEFROM (0 3)', lines)
        self.assertLess(lines.index(b'* ESEARCH (TAG "C01") REMOVEFROM (0 3)'),
                        lines.index(b"* 3 EXPUNGE"))
        # ADDTO after EXISTS.
        fill(b, 1)
        lines = []
        for _ in range(20):
            a.send(b"n NOOP\r\n")
            lines += a.until_tagged(b"n")
            if b"* 4 EXISTS" in lines:
                break
            time.sleep(0.05 * test_server.SLOW)
        self.assertLess(lines.index(b"* 4 EXISTS"),
                        lines.index(b'* ESEARCH (TAG "C01") ADDTO (0 4)'))
        # This session's own STORE: the update before its tagged OK.
        a.send(b"s STORE 1 +FLAGS (\\Seen)\r\n")
        lines = a.until_tagged(b"s")
        self.assertIn(b'* ESEARCH (TAG "C01") REMOVEFROM (0 1)', lines)
        self.assertEqual(lines[-1], b"s OK STORE completed")
        # SORT contexts are refused, the answer is still given (§4.3.1).
        a.send(b"D01 SORT RETURN (UPDATE COUNT) (ARRIVAL) UTF-8 ALL\r\n")
        lines = a.until_tagged(b"D01")
        self.assertEqual(lines[0], b'* ESEARCH (TAG "D01") COUNT 4')
        self.assertTrue(lines[1].startswith(b'* NO [NOUPDATE "D01"]'))
        a.close()
        b.logout()

    def test_delivery_by_another_process_rfc5267_4_3(self):
        # `tinyimapd deliver` is another process: its message is found when
        # the session next looks at the mailbox, then ADDTO after EXISTS.
        m = self.server.imap()
        m.login("alice", "wonderland")
        fill(m, 2)
        m.select("INBOX")
        m.store("1", "+FLAGS", "(\\Seen)")
        tag = m._command("UID", "SEARCH", "RETURN", "(UPDATE COUNT)", "UNSEEN")
        typ, _ = m._command_complete("UID", tag)
        self.assertEqual(typ, "OK")
        t = '(TAG "%s")' % tag.decode()
        self.assertEqual(esearch(m), [t + " UID COUNT 1"])
        r = test_server.run_tool(self.server, "deliver", "-u", "alice",
                                 input=b"From: mta@example.org\nSubject: d\n\nhello\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(t + " UID ADDTO (0 3)", noop_until(m, "ADDTO"))
        self.assertEqual(m.untagged_responses.get("EXISTS")[-1], b"3")
        m.logout()

    def test_rev2_session_rfc5267_4_3_rfc9051_6_4_4(self):
        # An IMAP4rev2 session (ENABLE IMAP4rev2): SEARCH answers ESEARCH
        # (RFC 9051 §6.4.4), UPDATE contexts still follow the mailbox, and
        # the changes come without RECENT or \Recent (Appendix E.12).
        a = login_raw(self.server)
        b = self.server.imap()
        b.login("alice", "wonderland")
        fill(b, 2)
        b.select("INBOX")
        a.send(b"e ENABLE IMAP4rev2\r\n")
        self.assertEqual(a.until_tagged(b"e"), [b"* ENABLED IMAP4rev2", b"e OK ENABLE completed"])
        a.send(b"s SELECT INBOX\r\n")
        a.until_tagged(b"s")
        a.send(b"P01 SEARCH UNSEEN\r\n")
        self.assertEqual(a.until_tagged(b"P01"), [
            b'* ESEARCH (TAG "P01") ALL 1:2', b"P01 OK SEARCH completed"])
        a.send(b"C01 UID SEARCH RETURN (UPDATE) UNSEEN\r\n")
        self.assertEqual(a.until_tagged(b"C01"), [
            b'* ESEARCH (TAG "C01") UID ALL 1:2', b"C01 OK SEARCH completed"])

        def noop_until_line(want):
            lines = []
            for _ in range(20):
                a.send(b"n NOOP\r\n")
                lines += a.until_tagged(b"n")
                if want in lines:
                    break
                time.sleep(0.05 * test_server.SLOW)
            return lines

        # Changes one at a time: a report holding both would carry them in
        # one line ("REMOVEFROM (0 1) ADDTO (0 3)").
        b.store("1", "+FLAGS", "(\\Seen)")
        removed = b'* ESEARCH (TAG "C01") UID REMOVEFROM (0 1)'
        lines = noop_until_line(removed)
        self.assertIn(b"* 1 FETCH (UID 1 FLAGS (\\Seen))", lines)
        self.assertLess(lines.index(b"* 1 FETCH (UID 1 FLAGS (\\Seen))"), lines.index(removed))
        fill(b, 1)
        added = b'* ESEARCH (TAG "C01") UID ADDTO (0 3)'
        more = noop_until_line(added)
        self.assertLess(more.index(b"* 3 EXISTS"), more.index(added))
        lines += more
        self.assertFalse([x for x in lines if b"RECENT" in x.upper() or b"P01" in x], lines)
        a.close()
        b.logout()

    def test_notify_selected_rfc5465_5_rfc5267_4_3(self):
        # NOTIFY SET (SELECTED ...): the updates come with no command, in
        # RFC 5465's order: EXISTS, ESEARCH ADDTO, then MessageNew's FETCH
        # (§5.2); a flag change's FETCH before its ESEARCH (§5.1); the
        # REMOVEFROM before the EXPUNGE (§5.3, RFC 5267 §4.3.4).
        a = login_raw(self.server)
        b = self.server.imap()
        b.login("alice", "wonderland")
        fill(b, 1)
        b.select("INBOX")
        a.send(b"s SELECT INBOX\r\n")
        a.until_tagged(b"s")
        a.send(b"C01 UID SEARCH RETURN (UPDATE) UNSEEN\r\n")
        self.assertEqual(a.until_tagged(b"C01"), [
            b'* ESEARCH (TAG "C01") UID ALL 1', b"C01 OK SEARCH completed"])
        a.send(b"b NOTIFY SET (selected (MessageNew (UID) MessageExpunge FlagChange))\r\n")
        self.assertEqual(a.until_tagged(b"b"), [b"b OK NOTIFY completed"])
        a.sock.settimeout(5 * test_server.SLOW)

        def until(last):
            lines = []
            while not lines or lines[-1] != last:
                lines.append(a.line())
            return lines

        fill(b, 1)
        lines = [x for x in until(b"* 2 FETCH (UID 2)") if not x.endswith(b" RECENT")]
        self.assertEqual(lines, [b"* 2 EXISTS", b'* ESEARCH (TAG "C01") UID ADDTO (0 2)',
                                 b"* 2 FETCH (UID 2)"])
        b.store("1", "+FLAGS", "(\\Seen)")
        lines = until(b'* ESEARCH (TAG "C01") UID REMOVEFROM (0 1)')
        self.assertEqual(len(lines), 2, lines)
        self.assertTrue(lines[0].startswith(b"* 1 FETCH (UID 1 FLAGS (\\Seen"), lines)
        b.store("2", "+FLAGS.SILENT", "(\\Deleted)")
        b.expunge()
        lines = until(b"* 2 EXPUNGE")
        self.assertIn(b'* ESEARCH (TAG "C01") UID REMOVEFROM (0 2)', lines)
        self.assertEqual(lines[-2], b'* ESEARCH (TAG "C01") UID REMOVEFROM (0 2)')
        a.send(b"z NOOP\r\n")
        self.assertEqual(a.until_tagged(b"z"), [b"z OK NOOP completed"])
        a.close()
        b.logout()
