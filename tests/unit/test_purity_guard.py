import socket
import subprocess

import pytest


def test_spawning_a_process_fails_the_test() -> None:
    with pytest.raises(AssertionError, match="spawn a process"):
        subprocess.run(["true"], check=False)


def test_opening_a_socket_fails_the_test() -> None:
    with pytest.raises(AssertionError, match="network connection"):
        socket.create_connection(("127.0.0.1", 5000), timeout=0.1)
