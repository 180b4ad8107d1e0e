"""End-to-end tests of IMAP4rev2 (RFC 9051) beside IMAP4rev1 over loopback:
Python's imaplib sends ENABLE IMAP4rev2 (Appendix A: a client that wants
rev2 from a server advertising both MUST) and reads rev2's answers (SEARCH
as ESEARCH, §6.4.4; SELECT's LIST, no RECENT or [UNSEEN], §6.3.2, Appendix
E.10-12; no \\Recent); a session that does not enable it gets IMAP4rev1's.
Run by test_server.py (load_extension_tests)."""
import time

from test_server import WithServer

MESSAGE = (b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>\r\n"
           b"Subject: rev2 check\r\n\r\nHello\r\n")


class Imap4rev2(WithServer):
    def _rev2(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        # imaplib upper-cases capability names.
        self.assertIn("IMAP4REV1", m.capabilities)
        self.assertIn("IMAP4REV2", m.capabilities)
        typ, _ = m.enable("IMAP4rev2")
        self.assertEqual(typ, "OK")
        self.assertEqual(m.untagged_responses.pop("ENABLED"), [b"IMAP4rev2"])
        return m

    def test_select_and_search_rfc9051_6_3_2_and_6_4_4(self):
        m = self._rev2()
        for _ in range(2):
            self.assertEqual(m.append("INBOX", None, None, MESSAGE)[0], "OK")
        typ, data = m.select("INBOX")
        self.assertEqual((typ, data), ("OK", [b"2"]))
        # §6.3.2: "The server MUST return a LIST response with the mailbox name".
        self.assertEqual(m.untagged_responses.get("LIST"), [b'(\\HasNoChildren) "/" INBOX'])
        # Appendix E.11-12: no [UNSEEN], no RECENT.
        self.assertNotIn("RECENT", m.untagged_responses)
        self.assertNotIn("UNSEEN", m.untagged_responses)
        # §6.4.4: SEARCH without RETURN answers ESEARCH as RETURN (ALL).
        typ, data = m.search(None, "ALL")
        self.assertEqual(typ, "OK")
        self.assertEqual(data, [None])  # imaplib finds no "* SEARCH"
        tag_line = m.untagged_responses.pop("ESEARCH")
        self.assertEqual(len(tag_line), 1)
        self.assertTrue(tag_line[0].startswith(b'(TAG "'))
        self.assertTrue(tag_line[0].endswith(b'") ALL 1:2'))
        typ, data = m.uid("SEARCH", "SUBJECT", '"rev2 check"')
        self.assertEqual(typ, "OK")
        self.assertTrue(m.untagged_responses.pop("ESEARCH")[0].endswith(b'") UID ALL 1:2'))
        # Appendix E.12: no \Recent in FETCH FLAGS (the messages are \Recent
        # to this session: SEARCH RECENT finds them).
        typ, data = m.fetch("1:2", "(FLAGS)")
        self.assertEqual(data, [b"1 (FLAGS ())", b"2 (FLAGS ())"])
        m.search(None, "RECENT")
        self.assertTrue(m.untagged_responses.pop("ESEARCH")[0].endswith(b'") ALL 1:2'))
        m.logout()

    def test_new_mail_without_recent_rfc9051_appendix_e_12(self):
        m = self._rev2()
        m.select("INBOX")
        other = self.server.imap()
        other.login("alice", "wonderland")
        self.assertEqual(other.append("INBOX", None, None, MESSAGE)[0], "OK")
        other.logout()
        m.untagged_responses.clear()
        deadline = time.time() + 5
        while "EXISTS" not in m.untagged_responses and time.time() < deadline:
            m.noop()
        self.assertEqual(m.untagged_responses.get("EXISTS"), [b"1"])
        self.assertNotIn("RECENT", m.untagged_responses)
        m.logout()

    def test_rev1_session_unchanged_rfc9051_appendix_a(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        self.assertEqual(m.append("INBOX", None, None, MESSAGE)[0], "OK")
        typ, data = m.select("INBOX")
        self.assertEqual((typ, data), ("OK", [b"1"]))
        self.assertEqual(m.untagged_responses.get("RECENT"), [b"1"])
        self.assertEqual(m.untagged_responses.get("UNSEEN"), [b"1"])
        self.assertNotIn("LIST", m.untagged_responses)
        self.assertEqual(m.search(None, "ALL"), ("OK", [b"1"]))
        self.assertEqual(m.fetch("1", "(FLAGS)")[1], [b"1 (FLAGS (\\Recent))"])
        m.logout()
