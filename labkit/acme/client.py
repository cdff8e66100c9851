"""The ACME client flow of guide chapter 5, with the ``acme`` library (certbot's) against Pebble.

* :class:`AcmeAccount` -- an account with the terms of service accepted;
* :func:`order_certificate` -- *Sign CSR with ACME provider*: order, answer one HTTP-01 challenge per name from a
  :class:`~labkit.acme.challenge.ChallengeHost` that runs only during validation, finalize, return the full chain;
* :func:`revoke` / :func:`is_revoked` -- ACME ``revoke-cert`` and Pebble's record of it;
* :func:`san_names` -- the DNS names of a certificate, CSR or chain, in order.

Pebble issues at the machine's real time and makes new CAs at every start: check its chains at ``lab.now_real()``.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from labkit import guide, lab
from labkit.acme.challenge import ChallengeHost, ClusterFront
from labkit.acme.pebble import Pebble
from labkit.errors import InputError, LabError, PolicyError
from labkit.x509.loading import load_all
from labkit.x509.reasons import CODES

__all__ = ["AcmeAccount", "order_certificate", "revoke", "is_revoked", "san_names"]

_EMAIL = re.compile(r"[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def _acme():
    """The ``acme`` client library (certbot's), imported on first use with a clear message if missing."""
    try:
        import josepy
        from acme import client, errors, messages
    except ImportError:
        raise LabError("The Python `acme` package is missing: pip install acme", rule="acme-installed",
                       value="acme", chapter=guide.CH5) from None
    return client, messages, errors, josepy


@dataclass
class AcmeAccount:
    """An ACME account at a provider: its key (a JWK), contact email, and the client bound to it."""

    pebble: Pebble
    email: str
    client: object = field(repr=False)
    key: object = field(repr=False)
    uri: str = field(repr=False)
    started: int = field(default=0, repr=False)  # which start of the Pebble the account was registered with

    @property
    def current(self) -> bool:
        """Whether the provider still knows this account: it runs, and has not been restarted since (a restarted
        Pebble is a new server with new CAs and no accounts)."""
        return self.pebble.running and self.pebble.starts == self.started

    def require_current(self) -> None:
        """Raise PolicyError ``acme-account-gone`` when the provider no longer knows this account."""
        if not self.current:
            state = "was restarted" if self.pebble.running else "is stopped"
            raise PolicyError(f"The ACME provider {state} since this account was registered (lab.reset_all() stops "
                              "it), so it no longer knows the account: register again", rule="acme-account-gone",
                              value=self.email, chapter=guide.CH5)

    @classmethod
    def register(cls, pebble: Pebble, email: str, accept_terms: bool) -> AcmeAccount:
        """Register with the provider: the admin email and acceptance of its terms of service are required
        (chapter 5: have the provider's terms reviewed first). A fresh account key every time."""
        if accept_terms is not True:
            raise PolicyError("The ACME provider's terms of service must be accepted before an account is "
                              "registered (chapter 5: have them reviewed by your legal team)", rule="acme-terms",
                              value=accept_terms, chapter=guide.CH5)
        email = (email or "").strip()
        if not email:
            raise InputError("The admin email address is needed for the account (use a dedicated mailbox)",
                             rule="acme-email", value=email, chapter=guide.CH5)
        if not _EMAIL.fullmatch(email):
            raise InputError("The admin email is not an email address: it is written name@domain, with no space "
                             "(a dedicated mailbox)", rule="acme-email", value=email, chapter=guide.CH5)
        pebble._require_running()
        client_mod, messages, errors, josepy = _acme()
        key = josepy.JWKEC(key=lab.new_key("ec", 256))
        net = client_mod.ClientNetwork(key, alg=josepy.ES256, verify_ssl=pebble.ca_bundle,
                                       user_agent="labkit-acme")
        client = client_mod.ClientV2(client_mod.ClientV2.get_directory(pebble.directory_url, net), net)
        registration = messages.NewRegistration.from_data(email=email, terms_of_service_agreed=True)
        account = client.new_account(registration)
        return cls(pebble, email, client, key, account.uri, pebble.starts)


def _is_node(value) -> bool:
    """An Expressway node (:class:`labkit.expressway.node.ExpresswayNode`), known by what it offers: the ACME client
    sits below the Expressway model and does not import it."""
    return all(hasattr(value, attr) for attr in ("role", "name", "csr_pem", "certificate"))


def _csr_pem(node_or_csr) -> tuple[bytes, object | None]:
    if _is_node(node_or_csr):
        if node_or_csr.role != "expressway-e":
            raise PolicyError("ACME is available on the Expressway-E only (X12.5 and later)",
                              rule="acme-expressway-e-only", value=node_or_csr.name, chapter=guide.CH5)
        return node_or_csr.csr_pem(), node_or_csr
    if isinstance(node_or_csr, x509.CertificateSigningRequest):
        return node_or_csr.public_bytes(serialization.Encoding.PEM), None
    data = node_or_csr.encode() if isinstance(node_or_csr, str) else bytes(node_or_csr)
    items = load_all(data)
    if len(items) != 1 or items[0].kind != "csr":
        raise InputError("order_certificate takes an Expressway-E node with a pending CSR, or one CSR in PEM",
                         rule="acme-csr", value=", ".join(i.kind for i in items), chapter=guide.CH5)
    return items[0].obj.public_bytes(serialization.Encoding.PEM), None


def _problem(error) -> tuple[str, str]:
    """(rule, Pebble's words) for a failed validation: which names failed and why."""
    details, dns = [], False
    for authz in getattr(error, "failed_authzrs", []):
        for challenge in authz.body.challenges:
            if challenge.error is not None:
                words = f"{challenge.error.typ} {challenge.error.detail}"
                dns = dns or words.endswith(":dns") or ":dns " in words or "could not resolve" in words
                details.append(f"{authz.body.identifier.value}: {challenge.error.detail or challenge.error.typ}")
    return ("acme-name-not-resolved" if dns else "acme-challenge-failed"), "; ".join(details) or str(error)


#: How many times an order is placed again when the provider hands back an earlier, still valid authorization.
REORDERS = 5


def _new_order_validated_afresh(client, messages, csr_pem: bytes):
    """``client.new_order(csr_pem)`` whose every authorization must be validated now.

    A provider may reuse a still valid authorization of the account for a name (Let's Encrypt does for up to 30
    days), and then issues without fetching that name's challenge file. Pebble does it about once in a hundred
    orders even with ``PEBBLE_AUTHZREUSE=0`` (its test is ``rand.Intn(100) > percent``): the lab's lessons would
    then change from run to run (a name that no longer resolves would still get its certificate). Each reused
    authorization is deactivated (RFC 8555 7.5.2, so it is never handed out again) and the order placed again, up to
    :data:`REORDERS` times."""
    order = client.new_order(csr_pem)
    for _ in range(REORDERS):
        reused = [a for a in order.authorizations if a.body.status == messages.STATUS_VALID]
        if not reused:
            break
        for authz in reused:
            client.deactivate_authorization(authz)
        order = client.new_order(csr_pem)
    return order


#: Seconds between two polls of the provider: the first is short (Pebble answers in milliseconds), each next one twice
#: as long, up to the last. The acme library's own polling waits a whole second before its first look.
POLL_FIRST, POLL_MAX = 0.02, 0.5


def _poll_and_finalize(client, order, deadline: _dt.datetime):
    """The acme library's ``poll_and_finalize`` (RFC 8555 7.5.1 and 7.4): wait for every authorization to leave
    ``pending``, raise ``ValidationError`` for those that failed, finalize, wait for the order to be ``valid`` and
    download the chain; with short polls (:data:`POLL_FIRST` doubling to :data:`POLL_MAX`) instead of its fixed
    second, which made every order take at least one second more than Pebble needs. ``TimeoutError`` at
    ``deadline``."""
    import time

    _client_mod, messages, errors, _jose = _acme()

    def post_as_get(url: str):
        return client.net.post(url, None, new_nonce_url=client.directory["newNonce"])

    def wait(step):
        pause = POLL_FIRST
        while True:
            done = step()
            if done is not None:
                return done
            if _dt.datetime.now() >= deadline:
                raise errors.TimeoutError()
            time.sleep(pause)
            pause = min(2 * pause, POLL_MAX)

    def settled(authzr):
        def step():
            updated, _response = client.poll(authzr)
            return None if updated.body.status == messages.STATUS_PENDING else updated
        return wait(step)

    authorizations = [settled(a) for a in order.authorizations]
    failed = [a for a in authorizations if a.body.status != messages.STATUS_VALID
              and any(c.error is not None for c in a.body.challenges)]
    if failed:
        raise errors.ValidationError(failed)
    order = order.update(authorizations=authorizations)
    try:
        client.begin_finalization(order)
    except messages.Error as exc:
        if exc.code != "orderNotReady":
            raise

    def issued():
        body = messages.Order.from_json(post_as_get(order.uri).json())
        if body.status == messages.STATUS_INVALID:
            raise errors.IssuanceError(body.error) if body.error is not None else errors.Error(
                "The certificate order failed; the provider gave no reason")
        if body.status == messages.STATUS_READY:  # finalization was refused as not ready: ask again
            client.begin_finalization(order)
        if body.status == messages.STATUS_VALID and body.certificate is not None:
            return order.update(body=body, fullchain_pem=post_as_get(body.certificate).text)
        return None

    return wait(issued)


def order_certificate(account: AcmeAccount, node_or_csr_pem, http_port: int | None = None, *, serve: bool = True,
                      timeout: float = 30, host: ChallengeHost | None = None,
                      peers: Sequence[ChallengeHost] = (), closed: Iterable[int] = ()) -> str:
    """*Sign CSR with ACME provider*: submit the Expressway-E's pending CSR (or a CSR in PEM), answer one HTTP-01
    challenge per name from a :class:`ChallengeHost` on 127.0.0.1:``http_port`` (Pebble's ``httpPort`` by
    default) that runs only while the provider validates, then finalize. Returns the full chain PEM (the
    certificate, then the intermediate that issued it).

    ``serve=False`` leaves the virtual host down (port 80 closed): validation fails. Failures raise
    :class:`~labkit.errors.PolicyError` with the provider's words: ``acme-challenge-failed`` (a challenge file
    could not be read), ``acme-name-not-resolved`` (no DNS answer for a name), ``acme-order-refused`` (the
    provider will not issue for a name at all). Pass ``host`` to inspect the virtual host afterwards.

    For an Expressway-E cluster, ``peers`` are the virtual hosts of its peers (one :class:`ChallengeHost` each, on
    its own port): every challenge file goes on every peer, as chapter 5 has it, and a :class:`ClusterFront` on
    the provider's HTTP port hands each validation to the next peer; the peers whose indexes are in ``closed`` keep
    port 80 shut (their virtual host does not start), which fails any validation that reaches them.
    """
    client_mod, messages, errors, josepy = _acme()
    csr_pem, _node = _csr_pem(node_or_csr_pem)
    account.require_current()
    client = account.client
    try:
        order = _new_order_validated_afresh(client, messages, csr_pem)
    except messages.Error as exc:
        raise PolicyError(f"The ACME provider refused the order: {exc.detail or exc}", rule="acme-order-refused",
                          value=exc.typ, chapter=guide.CH5) from None
    from acme import challenges

    port = http_port or account.pebble.http_port
    closed = set(closed)
    if peers:
        vhost = ClusterFront(port, peers)
        places = list(peers)  # every peer gets every file
        serving = [peer for index, peer in enumerate(peers) if index not in closed] + [vhost]
    else:
        vhost = host if host is not None else ChallengeHost(port)
        if host is not None and http_port is not None:
            vhost.port = http_port
        places, serving = [vhost], [vhost]
    pending = []
    for authz in order.authorizations:
        for challenge in authz.body.challenges:
            if isinstance(challenge.chall, challenges.HTTP01):
                response, validation = challenge.response_and_validation(account.key)
                for place in places:
                    place.resources[challenge.chall.encode("token")] = validation
                pending.append((challenge, response))
                break
        else:
            raise PolicyError("The provider offered no HTTP-01 challenge", rule="acme-http-01",
                              value=authz.body.identifier.value, chapter=guide.CH5)
    deadline = _dt.datetime.now() + _dt.timedelta(seconds=timeout)
    try:
        if serve:
            for server in serving:
                server.start()
        refused = []
        for challenge, response in pending:
            try:
                client.answer_challenge(challenge, response)
            except messages.Error as exc:
                if "status valid" in str(exc.detail or ""):  # validated meanwhile (reused authorization): fine
                    continue
                refused.append(exc)  # an earlier name already failed: the order is invalid
        order = _poll_and_finalize(client, order, deadline)  # raises ValidationError with the failed names
        if refused:
            raise PolicyError(f"The provider refused a challenge answer: {refused[0].detail or refused[0]}",
                              rule="acme-challenge-failed", value=refused[0].typ, chapter=guide.CH5)
    except errors.ValidationError as exc:
        rule, detail = _problem(exc)
        raise PolicyError(f"Validation failed, no certificate was issued: {detail}", rule=rule,
                          value=", ".join(a.body.identifier.value for a in exc.failed_authzrs),
                          chapter=guide.CH5) from None
    except errors.TimeoutError:
        raise PolicyError(f"The provider did not finish within {timeout:g} s", rule="acme-timeout",
                          value=timeout, chapter=guide.CH5) from None
    except errors.Error as exc:  # the order went invalid after validation (the provider refused to issue)
        raise PolicyError(f"The ACME provider did not issue the certificate: {exc}", rule="acme-order-refused",
                          value=type(exc).__name__, chapter=guide.CH5) from None
    finally:
        for server in {id(s): s for s in (*serving, *places)}.values():
            server.stop()  # chapter 5: the virtual host runs only during the challenge
        for place in places:
            place.resources.clear()
    return order.fullchain_pem


def _certificates(pem) -> list[x509.Certificate]:
    data = pem.encode() if isinstance(pem, str) else bytes(pem)
    return [item.obj for item in load_all(data) if item.kind == "certificate"]


def revoke(account: AcmeAccount, cert, reason: str = "unspecified", *, node=None) -> dict:
    """Revoke a certificate the provider issued (ACME ``revoke-cert``, signed by the account) and return Pebble's
    record of it. Refused for the certificate ``node`` has in service (``acme-revoke-in-use``): deploy its
    successor first.

    ``reason`` is any RFC 5280 reason name (:data:`labkit.x509.reasons.CODES`): RFC 8555 (7.6) lets the request
    carry any of them. Which ones a provider accepts is its own choice: Let's Encrypt asks subscribers for
    :data:`~labkit.x509.reasons.ACME_REASONS`, Pebble takes them all; a provider's refusal comes back as
    ``acme-revoke-refused`` with its words. An Expressway-E revokes from its command line instead (chapter 5:
    ``xcommand Acmerevoke``), without a reason code."""
    cert = cert if isinstance(cert, x509.Certificate) else _certificates(cert)[0]
    if reason not in CODES:
        raise InputError(f"An ACME revocation carries one of RFC 5280's reasons: {', '.join(CODES)}",
                         rule="acme-revoke-reason", value=reason, chapter=guide.RFC8555_REVOKE)
    if node is not None and node.certificate is not None and node.certificate == cert:
        raise PolicyError(f"This is the certificate {node.name} is using: deploy a new one before revoking it",
                          rule="acme-revoke-in-use", value=cert.subject.rfc4514_string(), chapter=guide.CH5)
    _client, messages, errors, _jose = _acme()
    account.require_current()
    try:
        account.client.revoke(cert, CODES[reason])
    except (messages.Error, errors.ClientError) as exc:
        raise PolicyError(f"The provider refused to revoke: {getattr(exc, 'detail', None) or exc}",
                          rule="acme-revoke-refused", value=f"{cert.serial_number:X}", chapter=guide.CH5) from None
    return account.pebble.cert_status(cert.serial_number)


def is_revoked(pebble: Pebble, cert: x509.Certificate) -> bool:
    """Whether Pebble's management API lists ``cert`` as revoked."""
    return pebble.cert_status(cert.serial_number).get("Status") == "Revoked"


def san_names(cert_or_pem) -> list[str]:
    """The DNS names of a certificate or CSR (or of the first certificate of a PEM chain), in their order."""
    cert = cert_or_pem if hasattr(cert_or_pem, "extensions") else _certificates(cert_or_pem)[0]
    return cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName)
