"""End-to-end tests of METADATA and METADATA-SERVER (RFC 5464) with Python's
imaplib (which has no METADATA helpers: raw commands through
_simple_command) and a raw client for literals. Run by test_server.py
(load_extension_tests)."""
import imaplib

from test_server import WithServer

imaplib.Commands.setdefault("GETMETADATA", ("AUTH", "SELECTED"))
imaplib.Commands.setdefault("SETMETADATA", ("AUTH", "SELECTED"))


def metadata(m, *args):
    """GETMETADATA: the tagged status and text, and the METADATA responses."""
    typ, dat = m._simple_command("GETMETADATA", *args)
    _, got = m._untagged_response(typ, dat, "METADATA")
    return typ, dat, [g for g in got if g is not None]


class Metadata(WithServer):
    server_args = {"users": (("alice", "{PLAIN}wonderland"), ("bob", "{PLAIN}builder")),
                   "extra": ["--metadata-admin=mailto:root@nas.example"]}

    def login(self, user="alice", password="wonderland"):
        m = self.server.imap()
        m.login(user, password)
        return m

    def test_capability_rfc5464_1(self):
        m = self.login()
        typ, caps = m.capability()
        self.assertIn(b"METADATA", caps[0].split())
        self.assertIn(b"METADATA-SERVER", caps[0].split())

    def test_mailbox_entries_set_get_remove_rfc5464_4_2_4_3(self):
        m = self.login()
        typ, dat = m._simple_command("SETMETADATA", "INBOX",
                                     '(/private/comment "My own comment" '
                                     '/shared/comment "Shared comment")')
        self.assertEqual(typ, "OK", dat)
        typ, dat, got = metadata(m, '"INBOX"', "(/shared/comment /private/comment)")
        self.assertEqual(typ, "OK")
        self.assertEqual(got, [b'INBOX (/private/comment "My own comment")',
                               b'INBOX (/shared/comment "Shared comment")'])
        typ, dat = m._simple_command("SETMETADATA", "INBOX", "(/private/comment NIL)")
        self.assertEqual(typ, "OK")
        typ, dat, got = metadata(m, "INBOX", "/private/comment")
        self.assertEqual((typ, got), ("OK", []))
        # §4.2.1: MAXSIZE leaves the longer value out and says how long it is.
        typ, dat, got = metadata(m, "(MAXSIZE 5)", "INBOX", "(/shared/comment)")
        self.assertEqual(typ, "OK")
        # No entry; imaplib files the tagged line's response code
        # [METADATA LONGENTRIES 14] under "METADATA" too.
        self.assertEqual(got, [b"LONGENTRIES 14"])
        # §4.3: too large for the server.
        typ, dat = m._simple_command("SETMETADATA", "INBOX",
                                     '(/shared/comment "%s")' % ("x" * 1025))
        self.assertEqual(typ, "NO")
        self.assertIn(b"[METADATA MAXSIZE 1024]", dat[-1])
        # §3.2: a bad entry name is BAD.
        with self.assertRaises(imaplib.IMAP4.error):
            m._simple_command("SETMETADATA", "INBOX", '(/private/a*b "x")')
        # §3.3: no such mailbox.
        typ, dat = m._simple_command("SETMETADATA", "Nope", '(/shared/comment "x")')
        self.assertEqual(typ, "NO")

    def test_server_entries_between_users_rfc5464_3_3(self):
        a = self.login()
        typ, dat = a._simple_command("SETMETADATA", '""',
                                     '(/shared/comment "Family NAS" /private/comment "mine")')
        self.assertEqual(typ, "OK", dat)
        b = self.login("bob", "builder")
        typ, dat, got = metadata(b, '""', "(/shared/comment /private/comment /shared/admin)")
        self.assertEqual(typ, "OK")
        self.assertEqual(got, [b'"" (/shared/admin "mailto:root@nas.example")',
                               b'"" (/shared/comment "Family NAS")'])
        # §3.2.1.1: /shared/admin is read-only.
        typ, dat = b._simple_command("SETMETADATA", '""', '(/shared/admin "mailto:me@x")')
        self.assertEqual(typ, "NO")
        typ, dat, got = metadata(a, "(DEPTH infinity)", '""', "/private")
        self.assertEqual(got, [b'"" (/private/comment "mine")'])

    def test_literals_and_rename_rfc5464_4_1_4_3(self):
        c = self.server.raw()
        c.line()
        c.send(b"a LOGIN alice wonderland\r\n")
        c.until_tagged(b"a")
        c.send(b"c CREATE Work\r\n")
        c.until_tagged(b"c")
        c.send(b"s SETMETADATA Work (/private/comment {33}\r\n")
        self.assertTrue(c.line().startswith(b"+"))
        c.send(b"My new comment across\r\ntwo lines. /shared/vendor/x/bin ~{3+}\r\na\0b)\r\n")
        self.assertEqual(c.until_tagged(b"s")[-1], b"s OK SETMETADATA completed")
        c.send(b"r RENAME Work Play\r\n")
        c.until_tagged(b"r")
        c.send(b"g GETMETADATA Play (DEPTH infinity) (/private /shared)\r\n")
        self.assertEqual(c.until_tagged(b"g"), [
            b"* METADATA Play (/private/comment {33}", b"My new comment across",
            b"two lines.)", b"* METADATA Play (/shared/vendor/x/bin ~{3}", b"a\0b)",
            b"g OK GETMETADATA completed"])
