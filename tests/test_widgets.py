"""Every widget callback, driven headless: set values, click, and read what the trainee would see."""

from __future__ import annotations

import re

from labkit import lab
from labkit.widgets import decoder, signature_lab, widget_check
from labkit.x509.pki import lab_chain


def test_widget_check_answers_a_click_with_the_lab_clock():
    box = widget_check()
    assert "Click the button" in box.pane.value
    box.button.click()
    assert "Widgets work" in box.pane.value and "2026-01-05 09:00" in box.pane.value
    assert "not rendering" in repr(box)  # the text a browser without widget support shows instead


def test_signature_lab_fails_verification_when_the_message_is_edited():
    box = signature_lab(lab.fixture_key("trainee"), "Upload at 18:00")
    assert "VALID:" in box.pane.value and "INVALID" not in box.pane.value
    box.text.value = "Upload at 19:00"
    assert "INVALID:" in box.pane.value
    box.text.value = "Upload at 18:00"
    assert "INVALID" not in box.pane.value


def test_decoder_shows_openssl_text_or_the_error_message():
    pem = lab_chain().server.cert_pem().decode()
    box = decoder(pem)
    box.button.click()
    assert "Subject: C = GB, O = labkit, CN = expe.lab.example" in box.pane.value
    box.pem.value = pem[:200]
    box.button.click()
    assert "pem-complete" in box.pane.value and "Traceback" not in box.pane.value
    assert "InputError" not in box.pane.value  # the message, rule and chapter, not the exception's class


def test_decoder_reads_an_uploaded_der_file():
    chain = lab_chain()
    from cryptography.hazmat.primitives.serialization import Encoding

    box = decoder()
    box.upload.value = ({"name": "root.cer", "type": "", "size": 1, "content": memoryview(
        chain.root.certificate.public_bytes(Encoding.DER)), "last_modified": lab.now()},)
    box.button.click()
    assert "CN = labkit Root CA" in box.pane.value


def test_sign_form_issues_or_shows_the_cas_refusal(tmp_path):
    from cryptography.hazmat.primitives.serialization import Encoding

    from labkit.ca import init_ca
    from labkit.widgets import sign_form
    from labkit.x509.certs import CertSpec, request

    root = init_ca(tmp_path / "root", "Form Root", key=lab.fixture_key("root-ca"))
    csr = request(CertSpec("form.lab.example"), lab.fixture_key("trainee"))
    box = sign_form(root, csr.public_bytes(Encoding.PEM).decode())
    assert box.profile.value == "client-server"
    box.days.value = 30
    box.button.click()
    assert "Issued serial 1001" in box.pane.value and "TLS Web Client Authentication" in box.pane.value
    assert root.status("1001").status == "V"
    box.upload.value = ({"name": "r.der", "type": "", "size": 1, "content": memoryview(
        csr.public_bytes(Encoding.DER)), "last_modified": lab.now()},)
    box.profile.value = "server"
    box.button.click()
    assert "Issued serial 1002" in box.pane.value
    box.upload.value = ()
    box.csr.value = root.certificate.public_bytes(Encoding.PEM).decode()  # a certificate, not a CSR
    box.button.click()
    assert "expect-csr" in box.pane.value and "WrongTypeError" not in box.pane.value


def test_tables_show_every_value_in_full_text_left_and_numbers_right():
    import pandas as pd

    from labkit import frame_html

    fix = "Renew the Expressway-E certificate before it expires, and upload the new one (chapter 7)"
    frame = pd.DataFrame({"scenario": ["expired", "<b>not bold</b>"], "fix": [fix, ""], "bytes": [512, 1024]})
    table = frame_html(frame)
    assert fix in table and fix[:47] + "..." not in table  # pandas' own HTML cuts it at 50 characters
    assert "&lt;b&gt;not bold&lt;/b&gt;" in table and "<b>not bold" not in table
    cells = re.findall(r'<td style="([^"]*)">([^<]*)</td>', table)
    assert all("text-align:left" in style and "word-break:normal" in style for style, value in cells
               if value in (fix, "expired"))
    assert all("text-align:right" in style for style, value in cells if value in ("512", "1024"))
    many = frame_html(pd.DataFrame({"n": range(500)}))  # a long table keeps its first and last rows
    assert "(500 rows in all; 490 not shown)" in many and ">499</td>" in many and ">250</td>" not in many
