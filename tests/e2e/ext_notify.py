"""End-to-end tests of NOTIFY (RFC 5465): one connection asks with NOTIFY
SET and IDLEs (raw commands); another (imaplib) APPENDs to a mailbox that is
not selected, CREATEs and RENAMEs; `tinyimapd deliver` (another process)
delivers into a watched mailbox. Run by test_server.py
(load_extension_tests)."""
import time

import test_server
from test_server import WithServer, run_tool


def login_raw(server):
    c = server.raw()
    c.line()  # greeting
    c.send(b"a LOGIN alice wonderland\r\n")
    c.until_tagged(b"a")
    return c


class Notify(WithServer):
    def test_notify_set_idle_sees_other_mailboxes_rfc5465_4_5_2_5_4(self):
        m = self.server.imap()
        m.login("alice", "wonderland")
        for name in ("Lists", "Lists/Lemonade"):
            self.assertEqual(m.create(name)[0], "OK")
        c = login_raw(self.server)
        c.send(b"s SELECT INBOX\r\n")
        c.until_tagged(b"s")
        c.send(b"n NOTIFY SET STATUS (selected (MessageNew (UID) MessageExpunge)) "
                b"(subtree Lists (MessageNew MessageExpunge)) (personal (MailboxName))\r\n")
        lines = c.until_tagged(b"n")
        self.assertEqual(len(lines), 3, lines)  # Lists and Lists/Lemonade, then the OK
        self.assertTrue(any(x.startswith(b"* STATUS Lists/Lemonade (MESSAGES 0 UIDNEXT 1 "
                                         b"UIDVALIDITY ") for x in lines), lines)
        self.assertEqual(lines[-1], b"n OK NOTIFY completed")
        c.send(b"i IDLE\r\n")
        self.assertEqual(c.line(), b"+ idling")
        c.sock.settimeout(5 * test_server.SLOW)
        # §5.2: a message APPENDed by another connection to a mailbox that
        # is not selected: STATUS, within the one-second beat.
        started = time.time()
        typ, _ = m.append("Lists/Lemonade", None, None, b"Subject: hi\r\n\r\nbody\r\n")
        self.assertEqual(typ, "OK")
        self.assertEqual(c.line(), b"* STATUS Lists/Lemonade (MESSAGES 1 UIDNEXT 2)")
        self.assertLess(time.time() - started, 5 * test_server.SLOW)
        # §5.2 in the selected mailbox: EXISTS, then the FETCH asked for.
        self.assertEqual(m.append("INBOX", None, None, b"Subject: in\r\n\r\nx\r\n")[0], "OK")
        self.assertEqual(c.line(), b"* 1 EXISTS")
        self.assertEqual(c.line(), b"* 1 RECENT")
        self.assertEqual(c.line(), b"* 1 FETCH (UID 1)")
        # §5.4: CREATE and RENAME by the other connection, as LIST.
        self.assertEqual(m.create("Lists/New")[0], "OK")
        self.assertEqual(c.line(), b'* LIST (\\HasNoChildren) "/" Lists/New')
        self.assertEqual(c.line(), b'* LIST (\\HasChildren) "/" Lists')
        self.assertEqual(m.rename("Lists/New", "Lists/Renamed")[0], "OK")
        self.assertEqual(c.line(),
                         b'* LIST (\\HasNoChildren) "/" Lists/Renamed ("OLDNAME" (Lists/New))')
        # §5.2: `tinyimapd deliver` into the renamed (now watched) mailbox.
        r = run_tool(self.server, "deliver", "-u", "alice", "-m", "Lists/Renamed",
                     input=b"From: mta@example.org\nSubject: pushed\n\nhello\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(c.line(), b"* STATUS Lists/Renamed (MESSAGES 1 UIDNEXT 2)")
        c.send(b"DONE\r\n")
        self.assertEqual(c.until_tagged(b"i")[-1], b"i OK IDLE terminated")
        # §3.1: NOTIFY NONE, then nothing any more.
        c.send(b"x NOTIFY NONE\r\n")
        self.assertEqual(c.until_tagged(b"x"), [b"x OK NOTIFY completed"])
        self.assertEqual(m.append("Lists/Lemonade", None, None, b"Subject: 2\r\n\r\ny\r\n")[0],
                         "OK")
        time.sleep(2)
        c.send(b"z NOOP\r\n")
        self.assertEqual(c.until_tagged(b"z"), [b"z OK NOOP completed"])
        m.logout()

    def test_notify_errors_rfc5465_3_1_5(self):
        c = login_raw(self.server)
        c.send(b"b NOTIFY SET (personal (MessageNew))\r\n")
        self.assertTrue(c.until_tagged(b"b")[-1].startswith(b"b BAD"))
        c.send(b"e NOTIFY SET (personal (AnnotationChange MessageNew MessageExpunge))\r\n")
        self.assertEqual(c.until_tagged(b"e")[-1],
                         b"e NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName "
                         b"SubscriptionChange MailboxMetadataChange ServerMetadataChange)] "
                         b"Unsupported NOTIFY event")
