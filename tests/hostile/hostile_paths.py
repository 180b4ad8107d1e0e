"""Symbolic links planted in a user's tree (issue 20, item 2): whoever else
can write there (a NAS share, a second service) must not give that user
another user's mailboxes through a link. Two users on the real binary;
links to bob's tree planted in alice's; every mailbox command that takes a
name is refused with a clear NO, and nothing of bob's changes.
docs/STORAGE.md "Symbolic links"; RFC 3501 §6.3.
"""
import os

from test_server import Server, WithServer

USERS = (("alice", "{PLAIN}wonderland"), ("bob", "{PLAIN}builder"),
         ("carol", "{PLAIN}singer"))
INBOX_DIR = "^i^n^b^o^x"  # docs/STORAGE.md "Names"


def login(server, user, password):
    c = server.raw()
    c.line()
    c.send(b"a LOGIN %s %s\r\n" % (user, password))
    assert c.until_tagged(b"a")[-1].startswith(b"a OK")
    return c


def say(c, tag, command):
    c.send(tag + b" " + command + b"\r\n")
    return c.until_tagged(tag)[-1]


def tree(root):
    """Every file (with its bytes) and directory below root."""
    out = {}
    for d, dirs, files in os.walk(root, followlinks=False):
        for name in dirs:
            out[os.path.relpath(os.path.join(d, name), root) + "/"] = None
        for name in files:
            p = os.path.join(d, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = f.read()
    return out


class HostilePaths(WithServer):
    server_args = {"users": USERS}

    def setUp(self):
        super().setUp()
        self.mail = os.path.join(self.server.dir, "mail")
        self.bob = login(self.server, b"bob", b"builder")
        self.assertTrue(say(self.bob, b"b1", b"APPEND INBOX {10+}\r\nHi, Bob!\r\n")
                        .startswith(b"b1 OK"))
        self.assertTrue(say(self.bob, b"b2", b"CREATE Private").startswith(b"b2 OK"))
        self.alice = login(self.server, b"alice", b"wonderland")
        self.assertTrue(say(self.alice, b"a1", b"CREATE Work").startswith(b"a1 OK"))
        self.bob_root = os.path.join(self.mail, "bob")
        self.alice_root = os.path.join(self.mail, "alice")
        # Planted by whoever else can write in alice's directory.
        os.symlink(os.path.join(self.bob_root, INBOX_DIR), os.path.join(self.alice_root, "evil"))
        os.symlink("../bob", os.path.join(self.alice_root, "evildir"))
        self.before = tree(self.bob_root)
        self.assertIn(INBOX_DIR + "/m.data", self.before)

    def assert_refused(self, answer, code=None):
        self.assertTrue(answer.split(b" ", 1)[1].startswith(b"NO ["), answer)
        self.assertNotIn(b"SERVERBUG", answer)
        if code:
            self.assertIn(b"[" + code + b"]", answer)

    def test_select_examine_status_append_through_a_link_refused(self):
        a = self.alice
        self.assert_refused(say(a, b"s1", b"SELECT evil"))
        self.assert_refused(say(a, b"s2", b"EXAMINE evildir/" + b"INBOX"))
        self.assert_refused(say(a, b"s3", b"STATUS evildir/Private (MESSAGES)"))
        self.assert_refused(say(a, b"s4", b"APPEND evil {4+}\r\nHi!!"))
        self.assert_refused(say(a, b"s5", b"APPEND evildir/Private {4+}\r\nHi!!"))
        a.send(b'l LIST "" *\r\n')
        listing = a.until_tagged(b"l")
        self.assertFalse(any(b"evil" in line for line in listing), listing)
        self.assertEqual(tree(self.bob_root), self.before)
        # Bob still has his message.
        self.bob.send(b"b3 SELECT INBOX\r\n")
        self.assertIn(b"* 1 EXISTS", self.bob.until_tagged(b"b3"))

    def test_rename_delete_create_through_a_link_refused(self):
        a = self.alice
        self.assert_refused(say(a, b"r1", b"RENAME evil Mine"), b"NONEXISTENT")
        self.assert_refused(say(a, b"r2", b"RENAME evildir/Private Mine"))
        self.assert_refused(say(a, b"r3", b"RENAME Work evildir/Work"), b"CANNOT")
        self.assert_refused(say(a, b"r4", b"RENAME Work evil"), b"CANNOT")
        self.assert_refused(say(a, b"d1", b"DELETE evil"), b"NONEXISTENT")
        self.assert_refused(say(a, b"d2", b"DELETE evildir/Private"))
        self.assert_refused(say(a, b"c1", b"CREATE evil"), b"CANNOT")
        self.assert_refused(say(a, b"c2", b"CREATE evildir/New"), b"CANNOT")
        self.assert_refused(say(a, b"c3", b"CREATE evil/Sub"))
        self.assertEqual(tree(self.bob_root), self.before)
        self.assertTrue(os.path.islink(os.path.join(self.alice_root, "evil")))
        # Alice's own tree still works.
        self.assertTrue(say(a, b"x1", b"RENAME Work Play").startswith(b"x1 OK"))
        self.assertTrue(say(a, b"x2", b"DELETE Play").startswith(b"x2 OK"))

    def test_tree_lock_is_not_created_through_a_link(self):
        lock = os.path.join(self.alice_root, "tree.lock")
        target = os.path.join(self.bob_root, "planted")
        if os.path.lexists(lock):
            os.remove(lock)
        os.symlink(target, lock)
        self.assert_refused(say(self.alice, b"t1", b"CREATE Other"), b"CANNOT")
        self.assertFalse(os.path.lexists(target))
        self.assertEqual(tree(self.bob_root), self.before)

    def test_a_user_root_that_is_a_link_is_not_followed(self):
        os.symlink(self.bob_root, os.path.join(self.mail, "carol"))
        c = self.server.raw()
        c.line()
        c.send(b"a LOGIN carol singer\r\n")
        answer = c.until_tagged(b"a")[-1]
        self.assertTrue(answer.startswith(b"a NO"), answer)
        self.assertEqual(tree(self.bob_root), self.before)


class HostilePathsAdminLink(WithServer):
    """A link at mail_dir itself is the admin's and is followed."""

    def setUp(self):
        import tempfile
        self.real = tempfile.mkdtemp(prefix="tinyimapd-real-")
        os.chmod(self.real, 0o755)
        self.link = self.real + "-link"
        os.symlink(self.real, self.link)
        if os.geteuid() == 0:
            import pwd
            nobody = pwd.getpwnam("nobody")
            os.chown(self.real, nobody.pw_uid, nobody.pw_gid)
        self.server = Server(extra=["--mail-dir=" + self.link])

    def tearDown(self):
        import shutil
        super().tearDown()
        os.remove(self.link)
        shutil.rmtree(self.real, ignore_errors=True)

    def test_mail_dir_through_an_admin_link_works(self):
        c = login(self.server, b"alice", b"wonderland")
        self.assertTrue(say(c, b"c", b"CREATE Work/2024").startswith(b"c OK"))
        self.assertTrue(say(c, b"a", b"APPEND Work/2024 {4+}\r\nHi!!").startswith(b"a OK"))
        self.assertTrue(say(c, b"r", b"RENAME Work Play").startswith(b"r OK"))
        self.assertTrue(os.path.isdir(os.path.join(self.real, "alice", "^play", "2024")))
