"""Reading and writing files safely (labkit.x509.loading.read_file, labkit.x509.files): only regular files are
read, the size limit counts bytes read, outputs are replaced whole and named in every error, links are written
through as OpenSSL does, and a key and its CSR are written as a pair."""

from __future__ import annotations

import os
import stat
import threading

import pytest
from asserts import assert_refused
from conftest import run_cli

from labkit.x509 import files
from labkit.x509.files import check_output, write_atomic, write_pair, write_private
from labkit.x509.loading import MAX_INPUT_BYTES, read_file
from labkit.x509.pki import lab_chain


def _finishes(call, *args) -> BaseException | object:
    """Run ``call`` in a thread and wait (bounded): its result or exception; fails if it hangs."""
    box: dict = {}

    def run():
        try:
            box["value"] = call(*args)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["value"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), f"{call.__name__}{args} hangs"
    return box["value"]


# -- reading ---------------------------------------------------------------------------------------------------------

def test_a_fifo_is_refused_at_once_not_read(tmp_path):
    fifo = tmp_path / "pipe.pem"
    os.mkfifo(fifo)
    error = _finishes(read_file, fifo)
    assert error.rule == "input-is-regular-file" and "named pipe" in error.message


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null", "/dev/urandom"])
def test_a_device_is_refused_at_once_not_read_until_memory_runs_out(device):
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    error = _finishes(read_file, device)
    assert error.rule == "input-is-regular-file" and "device" in error.message


def test_a_device_node_made_here_is_refused(tmp_path):
    node = tmp_path / "zero.pem"
    try:
        os.mknod(node, stat.S_IFCHR | 0o600, os.makedev(1, 5))  # the same device as /dev/zero
    except PermissionError:
        pytest.skip("making a device node needs root")
    assert _finishes(read_file, node).rule == "input-is-regular-file"


def test_a_symlink_loop_is_a_rule_not_a_crash(tmp_path):
    (tmp_path / "a.pem").symlink_to(tmp_path / "b.pem")
    (tmp_path / "b.pem").symlink_to(tmp_path / "a.pem")
    assert_refused("symlink-loop", read_file, tmp_path / "a.pem")


def test_a_symlink_to_a_certificate_is_read(tmp_path):
    lab_chain().server.write(tmp_path, "server")
    (tmp_path / "link.pem").symlink_to(tmp_path / "server.pem")
    assert read_file(tmp_path / "link.pem") == (tmp_path / "server.pem").read_bytes()


def test_a_folder_missing_and_unreadable_files(tmp_path):
    assert_refused("input-is-file", read_file, tmp_path)
    assert_refused("file-exists", read_file, tmp_path / "nope.pem")


def test_the_size_limit_counts_bytes_read_on_standard_input():
    """Standard input has no size to ask for: only counting what is read can refuse it."""
    done = run_cli("decode", "-", expect=2, input=b"A" * (MAX_INPUT_BYTES + 10))
    assert b"rule: file-too-large" in done.stderr


def test_a_file_whose_size_is_not_its_length_is_read_by_its_bytes():
    """/proc files say they are empty (st_size 0) and are not: what is read counts."""
    data = read_file("/proc/self/status")
    assert data.startswith(b"Name:") and os.stat("/proc/self/status").st_size == 0


def test_decode_reads_standard_input():
    pem = lab_chain().server.cert_pem()
    done = run_cli("decode", "-", input=pem)
    assert b"Subject: C = GB, O = labkit, CN = expe.lab.example" in done.stdout


# -- writing ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["folder", "fifo", "device"])
def test_an_output_that_is_no_file_is_refused(tmp_path, kind):
    target = tmp_path / "out.pem"
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        target = "/dev/null"
    error = _finishes(write_atomic, target, b"data")
    assert error.rule == "output-is-regular-file" and error.value == str(target)
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_symlink_is_written_through_atomically_and_stays_a_link(tmp_path):
    real = tmp_path / "real.pem"
    real.write_bytes(b"old")
    link = tmp_path / "link.pem"
    link.symlink_to(real)
    write_atomic(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


def test_a_symlink_loop_as_output_is_a_rule(tmp_path):
    (tmp_path / "a.pem").symlink_to(tmp_path / "b.pem")
    (tmp_path / "b.pem").symlink_to(tmp_path / "a.pem")
    assert_refused("symlink-loop", write_atomic, tmp_path / "a.pem", b"x")


def test_modes_are_explicit_whatever_the_umask(tmp_path):
    old = os.umask(0o077)
    try:
        public = write_atomic(tmp_path / "cert.pem", b"c")
        private = write_private(tmp_path / "key.pem", b"k")
    finally:
        os.umask(old)
    assert stat.S_IMODE(public.stat().st_mode) == 0o644 and stat.S_IMODE(private.stat().st_mode) == 0o600


def test_a_failed_write_names_the_target_and_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "cert.pem"
    target.write_bytes(b"old")

    def full_disk(fd, mode):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fchmod", full_disk)
    error = assert_refused("output-writable", write_atomic, target, b"new")
    assert error.value == str(target) and ".tmp" not in str(error)
    assert target.read_bytes() == b"old" and not list(tmp_path.glob(".*.tmp"))


def test_check_output_accepts_a_new_file_in_an_existing_folder_only(tmp_path):
    assert check_output(tmp_path / "new.pem") == tmp_path / "new.pem"
    assert_refused("output-folder-exists", check_output, tmp_path / "missing" / "new.pem")


# -- a key and its CSR: both or neither ------------------------------------------------------------------------------

def test_a_pair_to_the_same_file_is_refused_and_nothing_is_written(tmp_path):
    same = tmp_path / "both.pem"
    assert_refused("output-paths-differ", write_pair, (same, b"key", 0o600), (same, b"csr", 0o644))
    assert not same.exists()


def test_when_the_second_file_fails_the_first_is_put_back(tmp_path, monkeypatch):
    key, csr = tmp_path / "k.pem", tmp_path / "r.csr"
    key.write_bytes(b"the old key")
    key.chmod(0o600)
    real = files.write_atomic

    def second_fails(path, data, *, mode=0o644, fsync=True):
        if path == csr:
            raise OSError(28, "No space left on device")
        return real(path, data, mode=mode, fsync=fsync)

    monkeypatch.setattr(files, "write_atomic", second_fails)
    with pytest.raises(OSError):
        write_pair((key, b"a new key", 0o600), (csr, b"csr", 0o644))
    assert key.read_bytes() == b"the old key" and stat.S_IMODE(key.stat().st_mode) == 0o600
    assert not csr.exists()


def test_req_new_refuses_the_same_file_for_key_and_csr(tmp_path):
    done = run_cli("req", "new", "--cn", "expe.lab.example", "--key-out", "x.pem", "-o", "x.pem", cwd=tmp_path,
                   expect=2)
    assert b"rule: output-paths-differ" in done.stderr and not (tmp_path / "x.pem").exists()
    run_cli("req", "new", "--cn", "expe.lab.example", "--key-out", "k.pem", "-o", "r.csr", "--lab-key", "trainee",
            cwd=tmp_path)
    assert stat.S_IMODE((tmp_path / "k.pem").stat().st_mode) == 0o600
    assert (tmp_path / "r.csr").read_bytes().startswith(b"-----BEGIN CERTIFICATE REQUEST-----")
