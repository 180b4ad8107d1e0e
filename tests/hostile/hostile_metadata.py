"""Hostile METADATA (RFC 5464 §4.3): six connections of one user race to
add annotations past metadata_max_entries. However they interleave, the
mailbox never holds more than the limit, each command is all or nothing
(OK, or NO [METADATA TOOMANY] with none of its entries kept), nobody is
disconnected, and a bystander stays responsive. Then oversized values and
entry lists are refused without harm."""
import threading

import test_server
from hostile_support import Bystander, login_raw
from test_server import WithServer


class ConcurrentSetMetadataOverLimit(WithServer):
    server_args = {"extra": ["--metadata-max-entries=12"]}

    def _set(self, client, i, results, start):
        start.wait()
        entries = b" ".join(b"/shared/c%d/e%d \"v\"" % (i, k) for k in range(5))
        try:
            client.send(b"s SETMETADATA INBOX (" + entries + b")\r\n")
            results[i] = client.until_tagged(b"s")[-1]
        except (OSError, EOFError) as e:
            results[i] = repr(e).encode()

    def test_race_to_the_entry_limit(self):
        clients = [login_raw(self.server) for _ in range(6)]
        results = [None] * 6
        start = threading.Event()
        threads = [threading.Thread(target=self._set, args=(c, i, results, start))
                   for i, c in enumerate(clients)]
        with Bystander(self.server) as bystander:
            for t in threads:
                t.start()
            start.set()
            for t in threads:
                t.join(60 * test_server.SLOW)
        ok = [i for i, r in enumerate(results) if r == b"s OK SETMETADATA completed"]
        refused = [r for r in results if r is not None and
                   r.startswith(b"s NO [METADATA TOOMANY]")]
        # Five entries each, twelve at most: exactly two commands fit.
        self.assertEqual(len(ok), 2, results)
        self.assertEqual(len(refused), 4, results)
        self.assertLess(bystander.worst, 2.0 * test_server.SLOW)
        c = clients[0]
        c.send(b"g GETMETADATA INBOX (DEPTH infinity) /shared\r\n")
        lines = c.until_tagged(b"g")
        self.assertEqual(lines[-1], b"g OK GETMETADATA completed")
        got = sorted(line.split(b"(")[1].split(b" ")[0] for line in lines[:-1])
        want = sorted(b"/shared/c%d/e%d" % (i, k) for i in ok for k in range(5))
        self.assertEqual(got, want)

    def test_oversized_values_and_lists(self):
        c = login_raw(self.server)
        # A value over the limit in a synchronizing literal is refused before
        # it is sent; the connection goes on.
        c.send(b"a SETMETADATA INBOX (/shared/x {100000}\r\n")
        self.assertEqual(c.line(), b"a NO [METADATA MAXSIZE 1024] Value too large")
        # Too many entries in one command, a bad name deep in the list.
        many = b" ".join(b"/shared/e%d \"v\"" % k for k in range(40))
        c.send(b"b SETMETADATA INBOX (" + many + b")\r\n")
        self.assertTrue(c.until_tagged(b"b")[-1].startswith(b"b BAD"))
        c.send(b"c SETMETADATA INBOX (/shared/a \"v\" /shared/b*c \"v\")\r\n")
        self.assertTrue(c.until_tagged(b"c")[-1].startswith(b"c BAD"))
        c.send(b"d GETMETADATA INBOX (DEPTH infinity) /shared\r\n")
        self.assertEqual(c.until_tagged(b"d"), [b"d OK GETMETADATA completed"])
