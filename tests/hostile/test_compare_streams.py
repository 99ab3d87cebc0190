"""`compare` handed things that are not image files: a pipe, a FIFO with no writer, a
character device, a socket, a layout whose files are FIFOs or devices. Each is an input
error at once (exit 2), never a hang, an "Illegal seek" crash or an endless read."""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
from pathlib import Path

from tests.hostile.crafted import assert_refused, clean_env, repro_command, run
from tests.hostile.fixtures import Pair

HINT = "write it to a file first"


def test_a_pipe_from_process_substitution_is_refused(identical_pair: Pair) -> None:
    command = " ".join(map(shlex.quote, repro_command("compare", str(identical_pair.a_tar))))
    done = subprocess.run(
        ["bash", "-c", f"{command} <(cat {shlex.quote(str(identical_pair.b_tar))})"],
        capture_output=True,
        text=True,
        timeout=30,
        env=clean_env(),
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "is a pipe (FIFO), not an image file or directory" in done.stderr
    assert HINT in " ".join(done.stderr.split()) and "Traceback" not in done.stderr


def test_a_fifo_without_a_writer_is_refused_without_blocking(
    identical_pair: Pair, tmp_path: Path
) -> None:
    fifo = tmp_path / "stream.tar"
    os.mkfifo(fifo)
    outcome = run("compare", str(identical_pair.a_tar), str(fifo), deadline=20)
    assert_refused(outcome, 2, f"{fifo} is a pipe (FIFO)", HINT, deadline=20)


def test_dev_zero_is_refused_without_reading(identical_pair: Pair) -> None:
    outcome = run("compare", "/dev/zero", str(identical_pair.b_tar), deadline=20)
    assert_refused(outcome, 2, "/dev/zero is a character device", deadline=20)


def test_a_socket_is_refused(identical_pair: Pair, tmp_path: Path) -> None:
    path = tmp_path / "b.sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        outcome = run("compare", str(identical_pair.a), str(path), deadline=20)
    finally:
        server.close()
    assert_refused(outcome, 2, f"{path} is a socket", deadline=20)


def test_a_layout_whose_index_is_a_fifo_is_refused_without_blocking(identical_pair: Pair) -> None:
    index = identical_pair.b / "index.json"
    index.unlink()
    os.mkfifo(index)
    outcome = run("compare", str(identical_pair.a), str(identical_pair.b), deadline=20)
    assert_refused(outcome, 2, "is not an OCI image layout: index.json is missing", deadline=20)


def test_a_layout_whose_layer_is_dev_zero_is_refused(identical_pair: Pair) -> None:
    blobs = identical_pair.b / "blobs" / "sha256"
    layer = max(blobs.iterdir(), key=lambda p: p.stat().st_size)
    layer.unlink()
    layer.symlink_to("/dev/zero")
    outcome = run("compare", str(identical_pair.a), str(identical_pair.b), deadline=20)
    assert_refused(outcome, 2, f"blob sha256:{layer.name} is not a regular file", deadline=20)
