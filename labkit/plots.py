"""Pictures for the notebooks (matplotlib; no widgets): a certificate chain as boxes and arrows."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID

from . import decode

__all__ = ["chain_figure"]


def _cn(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else name.rfc4514_string()


def chain_figure(certificates, *, trusted: x509.Certificate | None = None):
    """Draw ``certificates`` (leaf first) top-down from the root: subject, serial, validity, and who signed whom.

    The root drawn with a thick border is the trust anchor (``trusted``, by default the last certificate).
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    certs = list(certificates)[::-1]  # root at the top
    anchor = trusted if trusted is not None else certs[0]
    fig, ax = plt.subplots(figsize=(7, 1.6 * len(certs)))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 2 * len(certs))
    ax.axis("off")
    for i, cert in enumerate(certs):
        y = 2 * (len(certs) - i) - 1.6
        is_anchor = cert == anchor
        ax.add_patch(FancyBboxPatch((1, y), 8, 1.2, boxstyle="round,pad=0.05",
                                    facecolor="#e8f1fb" if is_anchor else "#f6f6f6",
                                    edgecolor="#1f4e79", linewidth=2.5 if is_anchor else 1))
        role = "trust anchor (self-signed)" if cert.issuer == cert.subject else f"signed by {_cn(cert.issuer)}"
        ax.text(5, y + 0.85, _cn(cert.subject), ha="center", fontsize=11, weight="bold")
        ax.text(5, y + 0.45, f"serial {cert.serial_number:X} | {role}", ha="center", fontsize=8.5)
        ax.text(5, y + 0.12, f"valid {cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d}"
                f" | SHA-256 {decode.fingerprint(cert)[:11]}...", ha="center", fontsize=8)
        if i + 1 < len(certs):
            ax.annotate("", xy=(5, y - 0.35), xytext=(5, y - 0.05),
                        arrowprops={"arrowstyle": "->", "color": "#1f4e79", "lw": 1.5})
    fig.tight_layout()
    plt.close(fig)
    return fig
