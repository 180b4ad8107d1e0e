"""End-to-end tests of sessions working on the same mailboxes at once
(issue 12): APPENDs of many clients of a few users, with `tinyimapd deliver`
running beside them, never answered NO [INUSE] (RFC 3501 §6.3.11); DELETE
and RENAME while another session has the mailbox selected (RFC 2180 §3.3,
§3.4). Run by test_server.py (load_extension_tests)."""
import imaplib
import threading

import test_server
from test_server import WithServer, run_tool

USERS = ("alice", "bob", "carol")


class ConcurrentAppends(WithServer):
    server_args = {"users": tuple((u, "{PLAIN}pw-" + u) for u in USERS),
                   "extra": ["--max-clients=16", "--max-clients-per-address=16"]}

    def test_ten_clients_three_users_no_append_refused_rfc3501_6_3_11(self):
        per_client = 15
        failures = []
        done = [0] * 10

        def client(i):
            user = USERS[i % len(USERS)]
            m = self.server.imap()
            m.login(user, "pw-" + user)
            for n in range(per_client):
                body = (b"Subject: %d-%d\r\n\r\n" % (i, n)) + b"x" * (2000 + 500 * (n % 7))
                typ, data = m.append("INBOX", "(\\Seen)", None, body + b"\r\n")
                if typ != "OK":
                    failures.append((user, i, n, typ, data))
                else:
                    done[i] += 1
            m.logout()

        def deliver():
            for n in range(10):
                r = run_tool(self.server, "deliver", "-u", "alice",
                             input=b"From: mta@example.org\nSubject: d%d\n\nhello\n" % n)
                if r.returncode != 0:
                    failures.append(("deliver", n, r.returncode, r.stderr))

        # Each user's first login makes their root and INBOX: done before the
        # race, which is about APPENDs (a deliver racing a first login waits
        # for the tree lock: docs/TOOLS.md).
        for user in USERS:
            m = self.server.imap()
            m.login(user, "pw-" + user)
            m.logout()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(10)]
        threads.append(threading.Thread(target=deliver))
        for t in threads:
            t.start()
        for t in threads:
            t.join(300 * test_server.SLOW)
        self.assertEqual(failures, [])
        self.assertEqual(sum(done), 10 * per_client)
        expected = {u: 0 for u in USERS}
        for i in range(10):
            expected[USERS[i % len(USERS)]] += per_client
        expected["alice"] += 10
        for user in USERS:
            m = self.server.imap()
            m.login(user, "pw-" + user)
            typ, data = m.status("INBOX", "(MESSAGES UIDNEXT)")
            self.assertEqual(typ, "OK")
            self.assertIn(b"MESSAGES %d " % expected[user], data[0])
            self.assertIn(b"UIDNEXT %d)" % (expected[user] + 1), data[0])
            m.logout()
        self.assertNotIn("INUSE", self.server.log_text())


class DeleteRenameWhileSelected(WithServer):
    def test_delete_ends_the_other_session_rename_keeps_it_rfc2180_3_3_3_4(self):
        a = self.server.imap()
        a.login("alice", "wonderland")
        b = self.server.imap()
        b.login("alice", "wonderland")
        for name in ("Work", "Gone"):
            self.assertEqual(a.create(name)[0], "OK")
            self.assertEqual(a.append(name, None, None, b"Subject: one\r\n\r\nbody\r\n")[0], "OK")
        # RENAME: b keeps its selection under the new name.
        self.assertEqual(b.select("Work")[1][0], b"1")
        self.assertEqual(a.rename("Work", "Projects")[0], "OK")
        self.assertEqual(a.append("Projects", None, None, b"Subject: two\r\n\r\nbody\r\n")[0], "OK")
        b.noop()
        self.assertEqual(b.untagged_responses.get("EXISTS")[-1], b"2")
        typ, data = b.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        self.assertEqual(typ, "OK")
        self.assertIn(b"Subject: two", data[0][1])
        # DELETE: b, with the mailbox selected, is told BYE; a's own
        # selection of it ends with the authenticated state.
        self.assertEqual(b.select("Gone")[0], "OK")
        self.assertEqual(a.select("Gone")[0], "OK")
        self.assertEqual(a.delete("Gone")[0], "OK")
        self.assertEqual(a.untagged_responses.get("OK", [b""])[-1][:8], b"[CLOSED]")
        with self.assertRaises(imaplib.IMAP4.abort):
            b.noop()
        self.assertEqual(a.select("Projects")[1][0], b"2")
        self.assertIn("Selected mailbox was deleted", " ".join(
            x.decode() for x in b.untagged_responses.get("BYE", [b""])))
        a.logout()
