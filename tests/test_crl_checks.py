"""Guide chapter 8: the node's CRL store, CRL downloads, and big CRLs."""

from __future__ import annotations

import datetime as dt
import gzip
import http.server
import io
import threading
import zipfile

import pytest
from cryptography.hazmat.primitives import serialization

from labkit import InputError, lab
from labkit.expressway.revocation import CrlStore, RevocationSettings
from labkit.revocation.crl import bulk_crl, fetch_crl, is_revoked
from labkit.x509.pki import lab_chain


@pytest.fixture
def chain():
    return lab_chain()


@pytest.fixture
def crl_files(chain):
    crl = bulk_crl(chain.intermediate.certificate, chain.intermediate.key, [chain.server.certificate.serial_number])
    pem, der = crl.public_bytes(serialization.Encoding.PEM), crl.public_bytes(serialization.Encoding.DER)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as bundle:
        bundle.writestr("issuing.crl", pem)
    return crl, {"/c.pem": pem, "/c.der": der, "/c.zip": zipped.getvalue(), "/c.gz": gzip.compress(der)}


@pytest.fixture
def web(crl_files):
    """A plain HTTP server on 127.0.0.1 serving the CRL in four encodings."""
    files = crl_files[1]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = files.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path", ["/c.pem", "/c.der", "/c.zip", "/c.gz"])
def test_fetch_crl_reads_pem_der_zip_and_gzip_over_http(web, crl_files, path):
    assert fetch_crl(web + path) == crl_files[0]


def test_fetch_crl_errors_name_the_rule(web):
    with pytest.raises(InputError, match="crl-unreachable"):
        fetch_crl(web + "/missing.crl")
    with pytest.raises(InputError, match="crl-url"):
        fetch_crl("ftp://127.0.0.1/c.crl")


def test_automatic_updates_and_the_daily_time(web, chain):
    store = CrlStore(urls=[web + "/c.der", web + "/nothing"], update_time=dt.time(3, 30))
    lines = store.update()
    assert "1 revoked" in lines[0] and "failed" in lines[1]
    assert store.status(chain.server.certificate)[0] == "revoked"
    assert store.next_update() == dt.datetime(2026, 1, 6, 3, 30, tzinfo=dt.timezone.utc)
    assert store.next_update(at="2026-01-05T02:00:00Z") == dt.datetime(2026, 1, 5, 3, 30, tzinfo=dt.timezone.utc)


def test_manual_upload_is_pem_only_and_replaces_the_previous_one(chain, crl_files):
    crl, files = crl_files
    store = CrlStore()
    with pytest.raises(InputError, match="crl-upload-pem"):
        store.upload(files["/c.der"])
    store.upload(files["/c.pem"])
    empty = bulk_crl(chain.intermediate.certificate, chain.intermediate.key, [])
    store.upload(empty.public_bytes(serialization.Encoding.PEM))
    assert list(store.manual.values()) == [empty]


def test_automatic_crls_override_manual_ones_except_for_sip_tls(chain, crl_files):
    crl, _ = crl_files
    older = bulk_crl(chain.intermediate.certificate, chain.intermediate.key, [1, 2, 3])
    store = CrlStore(automatic={crl.issuer.public_bytes(): crl})
    store.upload(older.public_bytes(serialization.Encoding.PEM))
    assert store.crls(sip_tls=False) == [crl]
    assert store.crls(sip_tls=True) == [older, crl]


def test_each_service_uses_its_own_crl_sources(chain, crl_files):
    """Chapter 8's limitations: SIP TLS uses manual and automatic CRLs, other services let automatic ones win,
    external policy servers use manual CRLs only, and the LDAP login only the CRLs in the trusted CA file."""
    from labkit.expressway.trusted_list import TrustedCaList

    crl, files = crl_files
    manual = bulk_crl(chain.intermediate.certificate, chain.intermediate.key, [7])
    store = CrlStore(automatic={crl.issuer.public_bytes(): crl})
    store.upload(manual.public_bytes(serialization.Encoding.PEM))
    trusted = TrustedCaList()
    trusted.append(chain.intermediate.cert_pem() + files["/c.pem"])  # a CRL inside the trusted CA file
    assert store.crls(service="sip-tls") == [manual, crl] and store.crls(service="other") == [crl]
    assert store.crls(service="policy-server") == [manual]
    assert store.crls(service="ldap") == [] and store.crls(service="ldap", embedded=trusted.crls) == [crl]
    with pytest.raises(InputError, match="crl-service"):
        store.crls(service="xmpp")


def test_a_manual_upload_keeps_every_crl_of_its_file(chain):
    issuing = bulk_crl(chain.intermediate.certificate, chain.intermediate.key, [])
    root = bulk_crl(chain.root.certificate, chain.root.key, [])
    store = CrlStore()
    pem = serialization.Encoding.PEM
    first = store.upload(issuing.public_bytes(pem) + root.public_bytes(pem))
    assert first == issuing and list(store.manual.values()) == [issuing, root]
    assert store.status(chain.intermediate.certificate)[0] == "good"  # the root's CRL vouches for the issuing CA
    with pytest.raises(InputError, match="crl-upload-pem"):
        store.upload(issuing.public_bytes(serialization.Encoding.PEM) + chain.root.cert_pem())


def test_outbound_connections_name_the_responder_and_distribution_points(chain):
    from cryptography import x509

    from labkit.expressway.revocation import outbound_connections
    from labkit.x509.certs import sign_builder

    cert = chain.server.certificate
    builder = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(cert.issuer)
               .public_key(cert.public_key()).serial_number(cert.serial_number)
               .not_valid_before(cert.not_valid_before_utc).not_valid_after(cert.not_valid_after_utc)
               .add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
                   x509.AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier("http://ocsp.example.com"))]),
                   critical=False)
               .add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
                   [x509.UniformResourceIdentifier("https://crl.example.com/ca.crl"),
                    x509.UniformResourceIdentifier("http://127.0.0.1:18480/issuing.crl")], None, None, None)]),
                   critical=False))
    found = outbound_connections(sign_builder(builder, chain.intermediate.key), chain.server.certificate)
    assert found == [("OCSP responder", "ocsp.example.com", 80), ("CRL distribution point", "crl.example.com", 443),
                     ("CRL distribution point", "127.0.0.1", 18480)]


def test_an_expired_crl_makes_every_certificate_of_its_ca_revoked(chain):
    crl = bulk_crl(chain.intermediate.certificate, chain.intermediate.key, [], days=7)
    store = CrlStore(automatic={crl.issuer.public_bytes(): crl})
    assert store.status(chain.server.certificate)[0] == "good"
    status, why = store.status(chain.server.certificate, at=lab.now() + dt.timedelta(days=8))
    assert status == "revoked" and "expired" in why
    assert store.status(chain.root.certificate)[0] == "unknown"  # another CA: no CRL


def test_big_crls_are_looked_up_through_an_index(chain):
    serials = range(1000, 21000)
    crl = bulk_crl(chain.intermediate.certificate, chain.intermediate.key, serials)
    assert len(crl) == 20000
    assert is_revoked(crl, 1000) and is_revoked(crl, 20999) and not is_revoked(crl, 21000)
    assert all(is_revoked(crl, s) == (crl.get_revoked_certificate_by_serial_number(s) is not None)
               for s in (999, 5000, 20999, 30000))


def test_settings_check_the_fallback_value():
    assert RevocationSettings().fallback == "not-revoked"
    with pytest.raises(InputError, match="fallback"):
        RevocationSettings(fallback="ignore")


class _CountingCrl:
    """A CRL that counts how many of its entries are read, and how often it is searched by serial."""

    def __init__(self, crl):
        self._crl, self.entries_read, self.searches = crl, 0, 0

    def __iter__(self):
        for entry in self._crl:
            self.entries_read += 1
            yield entry

    def __len__(self):
        return len(self._crl)

    def get_revoked_certificate_by_serial_number(self, serial):
        self.searches += 1
        return self._crl.get_revoked_certificate_by_serial_number(serial)

    def __getattr__(self, name):
        return getattr(self._crl, name)


def test_big_crl_lookups_read_the_list_once_then_use_the_index():
    chain = lab_chain()
    crl = _CountingCrl(bulk_crl(chain.intermediate.certificate, chain.intermediate.key, range(1000, 6000)))
    answers = [is_revoked(crl, serial) for serial in range(0, 12000, 7)]
    assert answers == [1000 <= s < 6000 for s in range(0, 12000, 7)]
    assert crl.entries_read == 5000  # one pass to build the set, however many lookups follow
    assert crl.searches == 0  # never cryptography's linear search


def _with_distribution_point(chain, url: str):
    """The lab server certificate again, with a CRL Distribution Point at ``url`` (same serial, same issuer)."""
    from cryptography import x509

    from labkit.x509.certs import sign_builder

    cert = chain.server.certificate
    builder = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(cert.issuer)
               .public_key(cert.public_key()).serial_number(cert.serial_number)
               .not_valid_before(cert.not_valid_before_utc).not_valid_after(cert.not_valid_after_utc))
    for ext in cert.extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    builder = builder.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint(
        [x509.UniformResourceIdentifier(url)], None, None, None)]), critical=False)
    return sign_builder(builder, chain.intermediate.key)


@pytest.mark.parametrize(("downloads", "source", "accepted"), [(True, "crl", False), (False, "fallback", True)])
def test_cdp_downloads_only_when_allowed(web, chain, downloads, source, accepted):
    """Chapter 8: with 'Allow CRL downloads from CDPs' off, a node that holds no CRL of the CA cannot learn that the
    certificate is revoked, and the fallback decides."""
    from labkit.expressway.revocation import decide

    cert = _with_distribution_point(chain, web + "/c.der")
    settings = RevocationSettings(use_ocsp=False, use_crls=True, allow_cdp_downloads=downloads)
    decision = decide(cert, chain.intermediate.certificate, settings, CrlStore())
    assert (decision.source, decision.accept) == (source, accepted)
    downloaded = any("downloaded from the distribution point" in step for step in decision.steps)
    assert downloaded is downloads
