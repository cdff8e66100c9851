"""The Generate CSR page as the widget drives it (guide chapter 3): what it shows on each change, and what
*Generate CSR* does.

:func:`preview_csr` checks the page's current values and, with a key, builds the CSR they would give;
:func:`generate_from_form` presses *Generate CSR* on a node. Both return a :class:`CsrPreview` and never raise
for a broken rule: the error (and the field it is about) is shown beside the form.

The key length the page offers is always honoured (:func:`key_for_length`): the preview signs with the key it was
given when that key has the chosen size, else with the fixture key of that size (``rsa-4096``, ``rsa-8192``), so the
CSR is the same on every run; without a key, *Generate CSR* makes a fresh key of the chosen size on the Expressway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from labkit import lab
from labkit.errors import LabkitError
from labkit.expressway.csr import _NAME_TUPLES, KEY_LENGTHS, CsrRequest, build_csr
from labkit.expressway.node import ExpresswayNode
from labkit.x509 import decode

__all__ = ["CsrPreview", "preview_csr", "generate_from_form", "key_for_length", "SIZED_KEYS"]

#: The fixture key the page signs with for each key length it offers, when the key it was given has another size.
SIZED_KEYS = {2048: "trainee", 4096: "rsa-4096", 8192: "rsa-8192"}


@dataclass(frozen=True, eq=False)
class CsrPreview:
    """The page's answer to the values typed so far: the CSR (or None), the error (or None) and the ``field`` it is
    about (a :class:`CsrRequest` field name, or None), the guidance."""

    csr: x509.CertificateSigningRequest | None
    error: str | None
    guidance: list[str] = field(default_factory=list)
    request: CsrRequest | None = None
    note: str = ""
    field: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def alternative_names(self) -> str:
        """The "Alternative name as it will appear" line of the page."""
        return self.request.alternative_names_text() if self.request is not None else ""

    @property
    def decoded(self) -> str:
        """The CSR as ``openssl req -text -noout`` shows it (the page's Show (decoded))."""
        return decode.text(self.csr) if self.csr is not None else ""

    @property
    def pem(self) -> str:
        """The CSR as PEM (the page's Show (PEM file))."""
        return self.csr.public_bytes(serialization.Encoding.PEM).decode() if self.csr is not None else ""

    def summary(self) -> str:
        """The error, or the subject and names, then the guidance, as lines of text."""
        if self.error is not None:
            return self.error
        lines = []
        if self.request is not None:
            lines += [f"Subject: {self.request.subject_text()}",
                      f"Alternative name as it will appear: {self.alternative_names}",
                      "Extended key usage (always): TLS Web Server Authentication, TLS Web Client Authentication"]
        if self.note:
            lines.append(self.note)
        lines += [item if item.startswith("Warning (") else f"Note: {item}" for item in self.guidance]
        return "\n".join(lines)


_FORM_FIELDS = frozenset(f.name for f in fields(CsrRequest))


def _request_from_form(values: Mapping[str, object]) -> CsrRequest:
    """The CsrRequest for the page's current values, read as the page reads them: comma-separated lists, the
    custom common name ignored unless Common name is Custom, a key length typed as text."""
    unknown = sorted(set(values) - _FORM_FIELDS)
    if unknown:
        raise TypeError(f"not fields of the Generate CSR form: {', '.join(unknown)}")
    form = dict(values)
    for name in _NAME_TUPLES:
        if isinstance(form.get(name), str):
            form[name] = tuple(item.strip() for item in form[name].split(",") if item.strip())
    if form.get("common_name", "fqdn") != "custom":
        form["custom_common_name"] = ""
    length = form.get("key_length")
    if isinstance(length, str) and length.strip().isdigit():
        form["key_length"] = int(length)
    for name in ("role", "fqdn"):
        form.setdefault(name, "")
    return CsrRequest(**form)


def key_for_length(key, length: object):
    """The key the page signs with when ``length`` bits are chosen: ``key`` itself when it has that many bits (or
    is None, or not RSA, which :func:`build_csr` refuses, or the length is not one the page offers), else the RSA
    fixture key of that size (:data:`SIZED_KEYS`)."""
    if (not isinstance(key, rsa.RSAPrivateKey) or isinstance(length, bool) or length not in KEY_LENGTHS
            or key.key_size == length):
        return key
    return lab.fixture_key(SIZED_KEYS[length])


def _refused(exc: LabkitError) -> CsrPreview:
    return CsrPreview(None, str(exc), field=getattr(exc, "field", None))


def _key_note(given, used) -> str:
    if used is given:
        return ""
    name = SIZED_KEYS[used.key_size]
    return (f"Key: the fixture key {name} ({used.key_size} bits) signs this request, because the page's own key has "
            f"{given.key_size} bits; a fixture key gives the same CSR on every run.")


def preview_csr(form_values: Mapping[str, object], key=None) -> CsrPreview:
    """Check the page's current values and, with ``key``, build the CSR they would give.

    ``form_values`` maps :class:`CsrRequest` field names to what the page holds (lists may be comma-separated
    text). Without a key the preview still shows the subject, the alternative names and the guidance; the CSR
    itself is made when *Generate CSR* is pressed. With a key of another size than the chosen key length, the
    fixture key of that length signs (:func:`key_for_length`). A broken rule is returned as ``error`` (with the
    ``field`` it is about), never raised.
    """
    try:
        request = _request_from_form(form_values)
        used = key_for_length(key, request.key_length)
        csr = build_csr(request, used) if used is not None else None
    except LabkitError as exc:
        return _refused(exc)
    note = (_key_note(key, used) if key is not None
            else "No key yet: Generate CSR makes the key and the request on the Expressway.")
    return CsrPreview(csr, None, request.guidance(), request, note)


def generate_from_form(node: ExpresswayNode, form_values: Mapping[str, object], key=None) -> CsrPreview:
    """Press *Generate CSR* on ``node``'s page: :meth:`ExpresswayNode.generate_csr` with the page's values (and
    the key :func:`key_for_length` picks for the chosen length); the new pending CSR, or the refusal as ``error``."""
    try:
        request = _request_from_form(form_values)
        used = key_for_length(key, request.key_length)
        csr = node.generate_csr(request, used)
    except LabkitError as exc:
        return _refused(exc)
    note = f"CSR generated on {node.name}: it is now pending; download it for the CA, or Discard CSR to start again."
    if key is not None and used is not key:
        note += " " + _key_note(key, used)
    return CsrPreview(csr, None, request.guidance(), request, note)
