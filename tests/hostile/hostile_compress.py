"""Hostile input through COMPRESS=DEFLATE (RFC 4978): a decompression bomb
(a few hundred KiB that inflate to 256 MiB) must not grow the server's
memory, hold up another client or stop SIGTERM; the parser's limits apply
to the inflated bytes (the endless line gets BAD and the connection goes
on). Bytes after COMPRESS that are not a DEFLATE stream get * BYE (in the
compressed stream) and the connection closes; never a crash or a hang."""
import os
import time
import zlib

import hostile_support
import test_server
from ext_compress import compress, require_compress


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def bomb(total, chunk=1 << 20):
    """Compressed pieces of `total` bytes of 'A' with no line end."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = b"A" * chunk
    for _ in range(total // chunk):
        yield c.compress(block)
    yield c.flush(zlib.Z_SYNC_FLUSH)
    yield c  # the stream goes on: the caller sends the rest through it


class CompressBomb(test_server.WithServer):
    def setUp(self):
        super().setUp()
        require_compress(self)

    def test_deflate_bomb_is_inflated_in_bounded_steps(self):
        c = hostile_support.login_raw(self.server)
        z = compress(c)
        z.send(b"n NOOP\r\n")
        self.assertEqual(z.until_tagged(b"n"), [b"n OK NOOP completed"])
        pid = self.server.proc.pid
        before = rss_kib(pid)
        total = (64 if test_server.EMULATOR else 256) << 20  # qemu is slower
        sent = 0
        with hostile_support.Bystander(self.server) as b:
            stream = None
            for piece in bomb(total):
                if isinstance(piece, bytes):
                    sent += len(piece)
                    z.sock.sendall(piece)
                else:
                    stream = piece
            # End the endless line, then a command, through the same stream.
            z.sock.sendall(stream.compress(b"\r\nm NOOP\r\n") + stream.flush(zlib.Z_SYNC_FLUSH))
            z.sock.settimeout(120 * test_server.SLOW)
            lines = z.until_tagged(b"m")
        self.assertLess(sent, total // 500)  # a real bomb: over 500:1
        self.assertTrue(any(b"BAD" in line for line in lines), lines)
        self.assertEqual(lines[-1], b"m OK NOOP completed")
        grown = rss_kib(pid) - before
        self.assertLess(grown, 4096, "RSS grew by %d KiB" % grown)
        self.assertIsNone(b.error)
        self.assertLess(b.worst, 1.0 * test_server.SLOW)

    def test_sigterm_during_a_bomb_is_honoured(self):
        c = hostile_support.login_raw(self.server)
        z = compress(c)
        pieces = bomb(64 << 20)
        for piece in pieces:
            if isinstance(piece, bytes):
                z.sock.sendall(piece)
        self.assertLess(hostile_support.sigterm_seconds(self.server), 5 * test_server.SLOW)


class CompressGarbage(test_server.WithServer):
    def setUp(self):
        super().setUp()
        require_compress(self)

    def test_plaintext_after_compress_gets_bye_and_close(self):
        c = hostile_support.login_raw(self.server)
        z = compress(c)
        # A client that forgot to compress: 'n' = 0x6e starts a DEFLATE
        # block of the reserved type 3 (RFC 1951 §3.2.3).
        z.sock.sendall(b"n NOOP\r\n")
        z.sock.settimeout(10 * test_server.SLOW)
        got = []
        try:
            while True:
                got.append(z.line())
        except (EOFError, ConnectionResetError):
            pass
        self.assertTrue(got and got[-1].startswith(b"* BYE"), got)
        self.assertEqual(self.server.proc.poll(), None)  # still serving
        other = hostile_support.login_raw(self.server)
        other.send(b"n NOOP\r\n")
        self.assertEqual(other.until_tagged(b"n"), [b"n OK NOOP completed"])

    def test_random_garbage_after_compress_never_crashes(self):
        for seed in range(8):
            c = hostile_support.login_raw(self.server)
            z = compress(c)
            z.sock.sendall(os.urandom(4096 + seed * 977))
            z.sock.settimeout(10 * test_server.SLOW)
            try:
                while True:
                    z.line()
            except (EOFError, ConnectionResetError, TimeoutError, OSError):
                pass
            z.sock.close()
        time.sleep(0.2)
        self.assertEqual(self.server.proc.poll(), None)
        other = hostile_support.login_raw(self.server)
        other.send(b"n NOOP\r\n")
        self.assertEqual(other.until_tagged(b"n"), [b"n OK NOOP completed"])
