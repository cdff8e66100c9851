"""The notebooks' pictures (``labkit.chapters.plots``): what they draw, and legends that stay off the data."""

from __future__ import annotations

from asserts import assert_legend_off_the_data

from labkit import lab
from labkit.ca import init_ca
from labkit.chapters import plots
from labkit.x509.certs import CertSpec, request


def test_the_validity_timeline_draws_every_certificate_and_keeps_its_legend_beside_the_bars(tmp_path):
    """Notebook 05's timeline (issue 14: its legend covered the last certificate's bar)."""
    root = init_ca(tmp_path / "root", "labkit Root CA", key=lab.fixture_key("root-ca"))
    issuing = init_ca(tmp_path / "issuing", "labkit Issuing CA", key=lab.fixture_key("issuing-ca"), parent=root)
    first = issuing.sign(request(CertSpec("expc1.lab.example"), lab.fixture_key("expc-1")), "client-server")
    issuing.revoke(first, "keyCompromise")
    for name, key, days in (("ucm.lab.example", "ucm", 90), ("expe.lab.example", "expe-1", 730)):
        issuing.sign(request(CertSpec(name), lab.fixture_key(key)), "client-server", days=days)
    lab.clock.advance(days=120)
    issuing.update_db()
    fig = plots.validity_timeline(issuing)
    labels = [tick.get_text() for tick in fig.axes[0].get_yticklabels()]
    assert labels == ["1000  expc1.lab.example", "1001  ucm.lab.example", "1002  expe.lab.example"]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][-1] == "now (2026-05-05)"
    assert_legend_off_the_data(fig)
