"""Pictures for the notebooks (matplotlib; no widgets): a certificate chain as boxes and arrows."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import NameOID

from labkit.x509 import decode

__all__ = ["chain_figure", "validity_timeline"]


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
            ax.annotate("", xy=(5, y - 0.72), xytext=(5, y - 0.1),
                        arrowprops={"arrowstyle": "->", "color": "#1f4e79", "lw": 1.5})
            ax.text(5.15, y - 0.45, "signs", fontsize=8, color="#1f4e79", va="center")
    fig.tight_layout()
    plt.close(fig)
    return fig


def validity_timeline(ca, *, now=None):
    """Horizontal bars from issue to expiry for every certificate in a CA's database, coloured by status, with a
    cross where a certificate was revoked and a dashed line at ``now`` (the lab clock by default)."""
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    from labkit import lab

    moment = lab.now(now)
    colours = {"V": "#2e7d32", "R": "#c62828", "E": "#9e9e9e"}
    entries = ca.entries()
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(entries) + 1.6))
    for row, entry in enumerate(entries):
        start = mdates.date2num(ca.issued(entry.serial).not_valid_before_utc)
        ax.barh(row, mdates.date2num(entry.expiry) - start, left=start, color=colours[entry.status], height=0.5)
        if entry.revoked_at:
            ax.plot(mdates.date2num(entry.revoked_at), row, marker="X", color="black", markersize=9)
    ax.axvline(mdates.date2num(moment), color="#1f4e79", linestyle="--")
    ax.set_yticks(range(len(entries)), [f"{e.serial_hex}  {e.subject.rsplit('=', 1)[-1]}" for e in entries])
    ax.invert_yaxis()
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=6))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
    ax.set_title(f"Certificates issued by {ca.name}")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours.values()]
    handles.append(plt.Line2D([], [], color="#1f4e79", linestyle="--"))
    # the legend goes beside the axes, never on the bars (issue 14: it covered the last certificate)
    ax.legend(handles, ["valid", "revoked", "expired", f"now ({moment:%Y-%m-%d})"], loc="upper left",
              bbox_to_anchor=(1.01, 1), borderaxespad=0, fontsize=8, frameon=False)
    fig.tight_layout()
    plt.close(fig)
    return fig
