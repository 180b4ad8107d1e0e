"""End-to-end tests of the session extensions: IDLE (RFC 2177) with mail
from another connection and from `tinyimapd deliver`, ENABLE/QRESYNC, ID,
NAMESPACE, SPECIAL-USE default mailboxes, LIST-EXTENDED/LIST-STATUS, QUOTA,
MULTIAPPEND. Run by test_server.py (load_extension_tests)."""
import time

import test_server
from test_server import WithServer, run_tool


def login_raw(server):
    c = server.raw()
    c.line()  # greeting
    c.send(b"a LOGIN alice wonderland\r\n")
    c.until_tagged(b"a")
    return c


class Idle(WithServer):
    def test_idle_sees_append_from_another_connection_rfc2177(self):
        c = login_raw(self.server)
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        c.send(b"i IDLE\r\n")
        self.assertEqual(c.line(), b"+ idling")
        m = self.server.imap()
        m.login("alice", "wonderland")
        started = time.time()
        typ, data = m.append("INBOX", None, None, b"Subject: hi\r\n\r\nbody\r\n")
        self.assertEqual(typ, "OK")
        c.sock.settimeout(5 * test_server.SLOW)
        self.assertEqual(c.line(), b"* 1 EXISTS")
        self.assertEqual(c.line(), b"* 1 RECENT")
        self.assertLess(time.time() - started, 5 * test_server.SLOW)
        c.send(b"DONE\r\n")
        self.assertEqual(c.line(), b"i OK IDLE terminated")
        m.logout()

    def test_idle_sees_tinyimapd_deliver_within_seconds_rfc2177(self):
        c = login_raw(self.server)
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        c.send(b"i IDLE\r\n")
        self.assertEqual(c.line(), b"+ idling")
        r = run_tool(self.server, "deliver", "-u", "alice",
                     input=b"From: mta@example.org\nSubject: pushed\n\nhello\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        c.sock.settimeout(5 * test_server.SLOW)
        self.assertEqual(c.line(), b"* 1 EXISTS")
        c.send(b"DONE\r\n")
        self.assertEqual(c.until_tagged(b"i")[-1], b"i OK IDLE terminated")


class Extensions(WithServer):
    def test_capabilities_rfc3501_6_1_1(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        caps = set(m.capabilities)
        for cap in ("IDLE UIDPLUS MOVE NAMESPACE ID UNSELECT CHILDREN SPECIAL-USE ENABLE CONDSTORE "
                    "QRESYNC QUOTA LITERAL+ MULTIAPPEND SASL-IR LIST-EXTENDED LIST-STATUS "
                    "STATUS=SIZE BINARY ESEARCH WITHIN UNAUTHENTICATE SORT SORT=DISPLAY "
                    "THREAD=ORDEREDSUBJECT THREAD=REFERENCES ESORT CONTEXT=SORT I18NLEVEL=1 SEARCHRES "
                    "CONTEXT=SEARCH SAVEDATE PREVIEW REPLACE "
                    "UTF8=ACCEPT OBJECTID IMAP4REV2 NOTIFY").split():
            self.assertIn(cap, caps)
        self.assertTrue(any(c.startswith("APPENDLIMIT=") for c in caps))
        m.logout()

    def test_unauthenticate_then_login_rfc8437_3(self):
        c = login_raw(self.server)
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        # Pipelined with the next LOGIN, as RFC 8437 §3 allows.
        c.send(b"u UNAUTHENTICATE\r\nl LOGIN alice wonderland\r\n")
        self.assertEqual(c.until_tagged(b"u"), [b"u OK UNAUTHENTICATE completed"])
        self.assertTrue(c.until_tagged(b"l")[-1].startswith(b"l OK"))
        c.send(b"f FETCH 1 FLAGS\r\n")
        self.assertEqual(c.until_tagged(b"f")[-1], b"f BAD No mailbox selected")

    def test_namespace_id_quota_rfc2342_rfc2971_rfc9208(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        typ, data = m.namespace()
        self.assertEqual((typ, data), ("OK", [b'(("" "/")) (("Other Users/" "/")) NIL']))
        typ, data = m.xatom("ID", '("name" "imaplib")')
        self.assertEqual(typ, "OK")
        self.assertIn(b'"name" "tinyimapd"', m.untagged_responses["ID"][0])
        typ, data = m.getquotaroot("INBOX")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0], [b"INBOX"])  # no limits configured: no quota root
        m.logout()

    def test_special_use_mailboxes_of_a_new_user_rfc6154(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        typ, data = m.list()
        self.assertEqual(typ, "OK")
        listing = b"\n".join(data)
        for name, use in (("Sent", "Sent"), ("Drafts", "Drafts"), ("Trash", "Trash"),
                          ("Junk", "Junk"), ("Archive", "Archive")):
            self.assertIn(f'\\HasNoChildren \\{use}) "/" {name}'.encode(), listing)
        typ, data = m._simple_command("LIST", "(SPECIAL-USE)", '""', "*",
                                      "RETURN", "(STATUS (MESSAGES))")
        self.assertEqual(typ, "OK")
        self.assertEqual(len(m.untagged_responses.get("STATUS", [])), 5)
        m.logout()

    def test_multiappend_and_qresync_rfc3502_rfc7162(self):
        c = login_raw(self.server)
        c.send(b"m APPEND INBOX (\\Seen) {5+}\r\nfirst {6+}\r\nsecond\r\n")
        self.assertRegex(c.until_tagged(b"m")[-1], rb"m OK \[APPENDUID \d+ 1:2\]")
        c.send(b"e ENABLE QRESYNC\r\n")
        self.assertEqual(c.until_tagged(b"e"), [b"* ENABLED QRESYNC", b"e OK ENABLE completed"])
        c.send(b"s SELECT INBOX\r\n")
        lines = c.until_tagged(b"s")
        validity = [l for l in lines if b"UIDVALIDITY" in l][0].split()[3].rstrip(b"]")
        modseq = [l for l in lines if b"HIGHESTMODSEQ" in l][0].split()[3].rstrip(b"]")
        c.send(b"x STORE 1 +FLAGS.SILENT (\\Deleted)\r\ny EXPUNGE\r\n")
        self.assertIn(b"* VANISHED 1", c.until_tagged(b"y"))
        c.send(b"q SELECT INBOX (QRESYNC (" + validity + b" " + modseq + b" 1:2))\r\n")
        lines = c.until_tagged(b"q")
        self.assertIn(b"* OK [CLOSED] Previous mailbox closed", lines)
        self.assertIn(b"* VANISHED (EARLIER) 1", lines)
