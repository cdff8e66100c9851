"""PKI assertions the tests share, named after the rule each one checks (as trustme's ``assert_is_ca``).

* :func:`assert_is_ca` -- RFC 5280 4.2.1.9 and 4.2.1.3: basicConstraints critical with CA:TRUE (and the path length
  asked for), keyUsage with keyCertSign and cRLSign;
* :func:`assert_is_leaf` -- an end-entity certificate: CA:FALSE, a DNS subject alternative name, an authority key
  identifier (RFC 5280 4.2.1.1);
* :func:`assert_refused` -- a labkit call refuses with the named rule (and, when given, cites the chapter);
* :func:`assert_legend_off_the_data` -- a figure's legend lies outside its axes, so it covers no data (issue 14);
* :data:`KEY_TYPES` -- the fixture key of each key type, for tests whose behaviour depends on it (RSA and EC, as
  trustme parametrizes its tests).
"""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from labkit import LabkitError

__all__ = ["KEY_TYPES", "assert_is_ca", "assert_is_leaf", "assert_legend_off_the_data", "assert_refused",
           "key_type_of"]

#: A fixture key of each key type the lab issues for (``labkit.lab.fixture_key`` names).
KEY_TYPES = {"rsa": "trainee", "ec": "ec-p256"}


def key_type_of(cert_or_key) -> str:
    """``"rsa"`` or ``"ec"``: the type of a certificate's or key's public key."""
    public = cert_or_key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        return "rsa"
    if isinstance(public, ec.EllipticCurvePublicKey):
        return "ec"
    raise AssertionError(f"unexpected key type {type(public).__name__}")


def assert_is_ca(cert: x509.Certificate, path_length=None) -> None:
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca, "a CA certificate carries CA:TRUE, marked critical"
    assert constraints.value.path_length == path_length
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign, "a CA's keyUsage allows signing certificates and CRLs"


def assert_is_leaf(cert: x509.Certificate) -> None:
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName), "a leaf names its server in a DNS SAN"
    assert cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier is not None
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert not usage.key_cert_sign, "a leaf may not sign certificates"
    # keyEncipherment means RSA key transport: an EC key cannot do it (RFC 5480 section 3)
    assert usage.key_encipherment is (key_type_of(cert) == "rsa")


def assert_refused(rule: str, call, *args, chapter: str | None = None, error: type = LabkitError,
                   **kwargs) -> LabkitError:
    """``call(*args, **kwargs)`` raises ``error`` (a LabkitError) naming ``rule``, and cites ``chapter`` when given
    (a prefix such as ``"guide chapter 8"`` is enough)."""
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    assert caught.value.rule == rule, str(caught.value)
    if chapter is not None:
        assert caught.value.chapter.startswith(chapter), caught.value.chapter
        assert f"see {caught.value.chapter}" in str(caught.value)
    return caught.value


def assert_legend_off_the_data(fig) -> None:
    """Every legend of ``fig`` is drawn beside its axes, not on them (so it cannot hide a bar or a marker), and it
    fits inside the saved figure."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)  # as the notebook's PNG is drawn (the lab's figures are closed: no canvas of theirs)
    canvas.draw()
    renderer = canvas.get_renderer()
    whole = fig.bbox
    for ax in fig.axes:
        legend = ax.get_legend()
        assert legend is not None, "the figure has no legend"
        box, area = legend.get_window_extent(renderer), ax.get_window_extent(renderer)
        assert not box.overlaps(area), f"the legend {box.bounds} lies on the axes {area.bounds}"
        assert whole.x0 <= box.x0 and box.x1 <= whole.x1 and whole.y0 <= box.y0 and box.y1 <= whole.y1, \
            "the legend is cut off by the figure's edge"
