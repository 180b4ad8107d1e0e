"""End-to-end TLS 1.3 (RFC 8446) through STARTTLS (RFC 3501 §6.2.1) and
implicit TLS (RFC 8314 §3.2), with real clients: `openssl s_client -tls1_3`
and Python's ssl. Only a server built against mbedTLS 3.x offers TLS 1.3;
against 2.28 these tests skip (and fail instead when the build said it found
mbedTLS 3: TINYIMAPD_EXPECT_TLS13=1, see test_server.offers_tls13). Run by
test_server.py (load_extension_tests)."""
import shutil
import ssl
import subprocess

import test_server
from test_server import Server, WithServer, free_port, tls_context

# RFC 8446 §9.1 and ours: AEAD suites, no CCM.
ALLOWED_TLS13_SUITES = (b"TLS_CHACHA20_POLY1305_SHA256", b"TLS_AES_128_GCM_SHA256",
                        b"TLS_AES_256_GCM_SHA384")


class Tls13(WithServer):
    def setUp(self):
        if not test_server.offers_tls13():
            self.skipTest("built without TLS 1.3 (" + test_server.tls_line() + ")")
        self.tls_port = free_port()
        self.server = Server(extra=[f"--tls-listen=127.0.0.1:{self.tls_port}"], plaintext=False)

    def s_client(self, *args):
        if shutil.which("openssl") is None:
            self.skipTest("openssl not installed")
        r = subprocess.run(["openssl", "s_client", "-brief", "-ign_eof"] + list(args),
                           input=b"x LOGOUT\r\n", capture_output=True,
                           timeout=30 * test_server.SLOW)
        return r.stdout + r.stderr

    def check_tls13(self, out):
        self.assertIn(b"Protocol version: TLSv1.3", out, out)
        suite = [l for l in out.splitlines() if l.startswith(b"Ciphersuite: ")]
        self.assertEqual(len(suite), 1, out)
        self.assertIn(suite[0].split(b": ", 1)[1].strip(), ALLOWED_TLS13_SUITES, out)
        self.assertIn(b"* BYE", out, out)

    def test_s_client_tls1_3_starttls_rfc8446_rfc3501_6_2_1(self):
        self.check_tls13(self.s_client("-tls1_3", "-starttls", "imap", "-connect",
                                       f"127.0.0.1:{self.server.port}"))

    def test_s_client_tls1_3_implicit_tls_rfc8314_3_2(self):
        self.check_tls13(self.s_client("-tls1_3", "-connect", f"127.0.0.1:{self.tls_port}"))

    def test_tls1_3_ccm_only_client_is_refused_aead_policy(self):
        out = self.s_client("-tls1_3", "-ciphersuites", "TLS_AES_128_CCM_SHA256", "-connect",
                            f"127.0.0.1:{self.tls_port}")
        self.assertNotIn(b"Protocol version: TLSv1.3", out, out)
        self.assertNotIn(b"* BYE", out, out)

    def test_tls1_2_only_client_still_served_rfc8314_4_1(self):
        ctx = tls_context()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        import imaplib
        m = imaplib.IMAP4_SSL("127.0.0.1", self.tls_port, ssl_context=ctx,
                              timeout=10 * test_server.SLOW)
        self.server.clients.append(m.sock)
        self.assertEqual(m.sock.version(), "TLSv1.2")
        self.assertEqual(m.login("alice", "wonderland")[0], "OK")
        m.logout()

    def test_python_ssl_starttls_gets_tls1_3_and_logs_in(self):
        m = self.server.imap()
        ctx = tls_context()
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        self.assertEqual(m.starttls(ssl_context=ctx)[0], "OK")
        self.assertEqual(m.sock.version(), "TLSv1.3")
        self.assertEqual(m.login("alice", "wonderland")[0], "OK")
        m.logout()
