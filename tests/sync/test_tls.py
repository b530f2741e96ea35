"""The forwarder's TLS: the hub certificate is verified against the configured CA, TLS 1.2 is the floor and 1.3 is
negotiated when offered. A real TLS server on loopback (standard library) plays the hub's health endpoint."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ImproperlyConfigured

from apps.sync.client import HubClient


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject, issuer, key, signer, ca: bool):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer)).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False), critical=True)
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Test hub CA", "Test hub CA", ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _cert("localhost", "Test hub CA", key, ca_key, ca=False)
    (d / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (d / "hub.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "hub.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    other_key = ec.generate_private_key(ec.SECP256R1())
    other = _cert("Other CA", "Other CA", other_key, other_key, ca=True)
    (d / "other.pem").write_bytes(other.public_bytes(serialization.Encoding.PEM))
    return d


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = b'{"status": "healthy", "database": "connected"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def tls_hub(pki):
    servers = []

    def start(max_version=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pki / "hub.pem", pki / "hub.key")
        if max_version is not None:
            ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            ctx.maximum_version = max_version
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"https://localhost:{server.server_address[1]}"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def test_verified_against_the_configured_ca_and_tls13_preferred(tls_hub, pki):
    client = HubClient(tls_hub(), "e:t", ca_file=str(pki / "ca.pem"), timeout=5)
    assert client.health() is True
    assert client.tls_version == "TLSv1.3"


def test_unknown_ca_is_refused(tls_hub, pki):
    url = tls_hub()
    assert HubClient(url, "e:t", ca_file=str(pki / "other.pem"), timeout=5).health() is False
    assert HubClient(url, "e:t", ca_file="", timeout=5).health() is False  # system CAs do not know it


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_tls12_accepted_and_older_refused(tls_hub, pki):
    client = HubClient(tls_hub(ssl.TLSVersion.TLSv1_2), "e:t", ca_file=str(pki / "ca.pem"), timeout=5)
    assert client.health() is True and client.tls_version == "TLSv1.2"
    strict = HubClient(tls_hub(ssl.TLSVersion.TLSv1_2), "e:t", ca_file=str(pki / "ca.pem"), timeout=5,
                       min_tls="1.3")
    assert strict.health() is False
    try:
        old = tls_hub(ssl.TLSVersion.TLSv1_1)
    except ssl.SSLError:
        return  # this OpenSSL cannot even offer TLS 1.1
    assert HubClient(old, "e:t", ca_file=str(pki / "ca.pem"), timeout=5).health() is False


def test_plain_http_only_to_loopback():
    HubClient("http://127.0.0.1:9", "e:t")
    with pytest.raises(ImproperlyConfigured):
        HubClient("http://hub.example.com", "e:t")
    with pytest.raises(ImproperlyConfigured):
        HubClient("ftp://hub.example.com", "e:t")
