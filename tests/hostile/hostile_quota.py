"""Hostile quota: several connections of one user APPEND at once to get
past the storage quota (issue 20.7 b; RFC 9208 §4.3.1, §5.1). Each APPEND
reserves its size when its literal is accepted, so however the six
interleave, the user never ends up above the limit, and the refused ones
are told NO [OVERQUOTA] (never a dropped connection); a bystander stays
responsive throughout."""
import threading

import test_server
from hostile_support import Bystander, login_raw
from test_server import WithServer

KIB = 1024


class ConcurrentAppendsOverQuota(WithServer):
    server_args = {"extra": ["--quota-storage-mb=1"]}

    def _append(self, client, size, sync, results, i, start):
        start.wait()
        lit = b"{%d}" % size if sync else b"{%d+}" % size
        try:
            client.send(b"p APPEND INBOX " + lit + b"\r\n")
            if sync:
                first = client.line()
                if not first.startswith(b"+"):
                    results[i] = first
                    return
            client.send(b"m" * (size - 2) + b"\r\n" + b"\r\n")
            results[i] = client.until_tagged(b"p")[-1]
        except (OSError, EOFError) as e:
            results[i] = repr(e).encode()

    def _race(self, sync):
        clients = [login_raw(self.server) for _ in range(6)]
        results = [None] * 6
        start = threading.Event()
        threads = [
            threading.Thread(target=self._append,
                             args=(c, 700 * KIB, sync, results, i, start))
            for i, c in enumerate(clients)
        ]
        with Bystander(self.server) as bystander:
            for t in threads:
                t.start()
            start.set()
            for t in threads:
                t.join(120 * test_server.SLOW)
        ok = [r for r in results if r is not None and r.startswith(b"p OK")]
        refused = [r for r in results if r is not None and r.startswith(b"p NO [OVERQUOTA]")]
        # 700 KB twice is over 1 MiB: exactly one fits.
        self.assertEqual(len(ok), 1, results)
        self.assertEqual(len(refused), 5, results)
        self.assertLess(bystander.worst, 2.0 * test_server.SLOW)
        c = clients[0]
        c.send(b"q GETQUOTA \"\"\r\n")
        lines = c.until_tagged(b"q")
        self.assertIn(b'* QUOTA "" (STORAGE 700 1024)', lines)
        return clients

    def test_six_synchronizing_appends_of_700k_under_1mib_rfc9208_4_3_1(self):
        self._race(sync=True)

    def test_six_nonsynchronizing_appends_of_700k_under_1mib_rfc7888_rfc9208(self):
        clients = self._race(sync=False)
        # The refused literals were read and discarded: the connections work.
        for i, c in enumerate(clients):
            c.send(b"n%d NOOP\r\n" % i)
            self.assertTrue(c.until_tagged(b"n%d" % i)[-1].startswith(b"n%d OK" % i))
