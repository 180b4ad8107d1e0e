"""End-to-end tests of ACL (RFC 4314) and the other users' and shared
namespaces (RFC 2342) with imaplib, two and three users over loopback:
issue 19's check (alice shares "Family" with bob). Run by test_server.py
(load_extension_tests)."""
import imaplib

from test_server import WithServer

USERS = (("alice", "{PLAIN}wonderland"), ("bob", "{PLAIN}builder"), ("carol", "{PLAIN}singer"))
# imaplib knows no LISTRIGHTS (RFC 4314 §3.4).
imaplib.Commands.setdefault("LISTRIGHTS", ("AUTH", "SELECTED"))
imaplib.Commands.setdefault("SETMETADATA", ("AUTH", "SELECTED"))
MESSAGE = b"From: alice@example.org\r\nSubject: Dinner\r\n\r\nAt eight.\r\n"


class Acl(WithServer):
    server_args = {"users": USERS, "extra": ("--public-owner=carol",)}

    def login(self, user, password):
        m = self.server.imap()
        self.assertEqual(m.login(user, password)[0], "OK")
        return m

    def test_capability_and_namespace_rfc4314_rfc2342(self):
        a = self.login("alice", "wonderland")
        caps = a.capability()[1][0].split()
        self.assertIn(b"ACL", caps)
        self.assertIn(b"RIGHTS=texk", caps)
        self.assertEqual(a.namespace(),
                         ("OK", [b'(("" "/")) (("Other Users/" "/")) (("Shared/" "/"))']))

    def test_alice_shares_family_with_bob_issue19(self):
        a = self.login("alice", "wonderland")
        self.assertEqual(a.create("Family")[0], "OK")
        self.assertEqual(a.append("Family", None, None, MESSAGE)[0], "OK")
        self.assertEqual(a.setacl("Family", "bob", "lrs")[0], "OK")
        typ, data = a.getacl("Family")
        self.assertEqual((typ, data), ("OK", [b"Family alice lrswipkxteacd bob lrs"]))
        self.assertEqual(a.myrights("Family"), ("OK", [b"Family lrswipkxteacd"]))
        typ, data = a._simple_command("LISTRIGHTS", "Family", "bob")
        typ, data = a._untagged_response(typ, data, "LISTRIGHTS")
        self.assertEqual((typ, data), ("OK", [b'Family bob "" l r s w i p k x t e a c d']))

        b = self.login("bob", "builder")
        typ, data = b.list()
        self.assertEqual(typ, "OK")
        self.assertTrue(any(d.endswith(b'"/" "Other Users/alice/Family"') for d in data), data)
        self.assertFalse(any(b"Other Users/alice/INBOX" in d for d in data))
        family = '"Other Users/alice/Family"'
        self.assertEqual(b.myrights(family), ("OK", [b'"Other Users/alice/Family" lrs']))
        typ, data = b.select(family)
        self.assertEqual((typ, data), ("OK", [b"1"]))
        typ, data = b.fetch("1", "(BODY[TEXT])")
        self.assertEqual(typ, "OK")
        self.assertEqual(data[0][1], b"At eight.\r\n")
        # No i: APPEND is refused, NOPERM (RFC 5530).
        typ, data = b.append(family, None, None, b"Subject: hi\r\n\r\nhi\r\n")
        self.assertEqual(typ, "NO")
        self.assertTrue(data[0].startswith(b"[NOPERM]"), data)
        # alice's INBOX does not exist for bob (RFC 4314 §6).
        b.unselect()
        typ, data = b.select('"Other Users/alice/INBOX"')
        self.assertEqual((typ, data), ("NO", [b"[NONEXISTENT] No such mailbox"]))
        # Given i, bob files into Family; alice sees it (one mailbox, two users).
        self.assertEqual(a.setacl("Family", "bob", "+i")[0], "OK")
        self.assertEqual(b.append(family, None, None, b"Subject: hi\r\n\r\nhi\r\n")[0], "OK")
        self.assertEqual(a.status("Family", "(MESSAGES)"), ("OK", [b"Family (MESSAGES 2)"]))
        # DELETEACL takes it all back.
        self.assertEqual(a.deleteacl("Family", "bob")[0], "OK")
        self.assertEqual(b.status(family, "(MESSAGES)")[0], "NO")

    def test_shared_namespace_rfc2342_5(self):
        c = self.login("carol", "singer")
        self.assertEqual(c.create("Invoices")[0], "OK")
        self.assertEqual(c.setacl("Invoices", "anyone", "lri")[0], "OK")
        a = self.login("alice", "wonderland")
        self.assertEqual(a.append("Shared/Invoices", None, None, MESSAGE)[0], "OK")
        self.assertEqual(a.status("Shared/Invoices", "(MESSAGES)"),
                         ("OK", [b"Shared/Invoices (MESSAGES 1)"]))
        typ, data = a.list('""', "Shared/*")
        self.assertEqual(typ, "OK")
        self.assertTrue(any(d.endswith(b'"/" Shared/Invoices') for d in data), data)

    def test_per_user_seen_rfc4314_4_5_2(self):
        # RFC 4314 §4 (s: "keep seen/unseen information across sessions"):
        # what bob reads stays unread for alice, and the reverse.
        a = self.login("alice", "wonderland")
        self.assertEqual(a.create("Kitchen")[0], "OK")
        self.assertEqual(a.append("Kitchen", None, None, MESSAGE)[0], "OK")
        self.assertEqual(a.append("Kitchen", None, None, MESSAGE)[0], "OK")
        self.assertEqual(a.setacl("Kitchen", "bob", "lrs")[0], "OK")
        b = self.login("bob", "builder")
        kitchen = '"Other Users/alice/Kitchen"'
        self.assertEqual(b.select(kitchen)[0], "OK")
        typ, data = b.fetch("1", "(BODY[])")
        self.assertEqual(typ, "OK")
        self.assertIn(b"\\Seen", data[1])  # FLAGS after the literal
        self.assertEqual(b.search(None, "UNSEEN"), ("OK", [b"2"]))
        self.assertEqual(a.select("Kitchen")[0], "OK")
        typ, data = a.fetch("1:2", "(FLAGS)")
        self.assertEqual(typ, "OK")
        self.assertFalse(any(b"\\Seen" in d or b"%" in d for d in data), data)
        self.assertEqual(a.search(None, "UNSEEN"), ("OK", [b"1 2"]))
        self.assertEqual(a.store("2", "+FLAGS", "(\\Seen)")[0], "OK")
        self.assertEqual(a.close()[0], "OK")
        self.assertEqual(a.status("Kitchen", "(UNSEEN)"), ("OK", [b"Kitchen (UNSEEN 1)"]))
        self.assertEqual(b.store("1", "-FLAGS", "(\\Seen)")[0], "OK")
        self.assertEqual(b.search(None, "UNSEEN"), ("OK", [b"1 2"]))
        self.assertEqual(b.close()[0], "OK")
        self.assertEqual(b.status(kitchen, "(UNSEEN)"),
                         ("OK", [b'"Other Users/alice/Kitchen" (UNSEEN 2)']))
    def test_notify_shared_family_rfc5465_6_rfc4314(self):
        """RFC 5465 §6.6, §5.2, §5.6 with RFC 4314: bob watches alice's shared
        Family under his name for it; alice's APPEND is told as STATUS, her
        /shared annotation as METADATA, her /private one not at all."""
        a = self.login("alice", "wonderland")
        self.assertEqual(a.create("Family")[0], "OK")
        self.assertEqual(a.setacl("Family", "bob", "lr")[0], "OK")
        b = self.server.raw()
        b.line()  # greeting
        b.send(b"a LOGIN bob builder\r\n")
        b.until_tagged(b"a")
        b.send(b'n NOTIFY SET (mailboxes "Other Users/alice/Family" (MessageNew MessageExpunge '
               b"MailboxMetadataChange))\r\n")
        self.assertEqual(b.until_tagged(b"n"), [b"n OK NOTIFY completed"])
        b.send(b"i IDLE\r\n")
        self.assertEqual(b.line(), b"+ idling")
        self.assertEqual(a.append("Family", None, None, MESSAGE)[0], "OK")
        self.assertEqual(b.line(), b'* STATUS "Other Users/alice/Family" (MESSAGES 1 UIDNEXT 2)')
        typ, _ = a._simple_command("SETMETADATA", "Family", '(/private/comment "mine")')
        self.assertEqual(typ, "OK")
        typ, _ = a._simple_command("SETMETADATA", "Family", '(/shared/comment "ours")')
        self.assertEqual(typ, "OK")
        self.assertEqual(b.line(), b'* METADATA "Other Users/alice/Family" /shared/comment')
        b.send(b"DONE\r\n")
        self.assertEqual(b.until_tagged(b"i"), [b"i OK IDLE terminated"])
