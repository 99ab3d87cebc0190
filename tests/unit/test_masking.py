"""repro.masking: what looks secret, how it is shown, and that masking is idempotent."""

from __future__ import annotations

import hashlib

import pytest

from repro.dockerfile import parse_dockerfile
from repro.dockerfile.secrets import secret_values
from repro.masking import (
    Masker,
    count_masked,
    is_secret_key,
    mask_json,
    mask_mapping,
    mask_text,
    mask_value,
    masked_keys,
)

SECRET = "hunter2-s3cret"
TOKEN = "ghp_" + "Ab1" * 12


def shown(value: str) -> str:
    return f"sha256:{hashlib.sha256(value.encode()).hexdigest()[:8]}…({len(value)} chars)"


def test_a_masked_value_is_a_short_hash_and_the_length() -> None:
    assert mask_value(SECRET) == shown(SECRET)
    assert mask_value(mask_value(SECRET)) == mask_value(SECRET)
    assert mask_value("a") != mask_value("b")  # two values can still be told apart


@pytest.mark.parametrize(
    "name", ["DB_PASSWORD", "db_passwd", "API_TOKEN", "client_secret", "SSH_KEY", "deploy.token"]
)
def test_secret_names(name: str) -> None:
    assert is_secret_key(name)


@pytest.mark.parametrize("name", ["PATH", "HOME", "PWD", "VERSION", "LANG"])
def test_names_that_are_not_secret(name: str) -> None:
    assert not is_secret_key(name)


CASES = [
    # an Env entry: the whole value, spaces and all
    (f"DB_PASSWORD={SECRET} and more", f"DB_PASSWORD={shown(SECRET + ' and more')}"),
    # a history line: each assignment in it
    (
        f"RUN |1 DB_PASSWORD={SECRET} /bin/sh -c make",
        f"RUN |1 DB_PASSWORD={shown(SECRET)} /bin/sh -c make",
    ),
    (f'echo "password={SECRET}" > /etc/app', f'echo "password={shown(SECRET)}" > /etc/app'),
    (f"aws_secret_access_key = {SECRET}", f"aws_secret_access_key = {shown(SECRET)}"),
    (f"--build-arg API_TOKEN='{SECRET}'", f"--build-arg API_TOKEN='{shown(SECRET)}'"),
    (f'{{"api_key": "{SECRET}", "name": "x"}}', f'{{"api_key": "{shown(SECRET)}", "name": "x"}}'),
    (f"curl -H 'token {TOKEN}'", f"curl -H 'token {shown(TOKEN)}'"),
    ("key AKIAABCDEFGHIJKLMNOP here", f"key {shown('AKIAABCDEFGHIJKLMNOP')} here"),
    (
        f"pip install --index-url https://ci:{SECRET}@pypi.example/simple x",
        f"pip install --index-url https://ci:{shown(SECRET)}@pypi.example/simple x",
    ),
    (
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
        f"-----BEGIN PRIVATE KEY-----{shown('MIIEvQIBADANBg')}\n-----END PRIVATE KEY-----",
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_mask_text(text: str, expected: str) -> None:
    assert mask_text(text) == expected
    assert mask_text(expected) == expected  # idempotent: masking twice changes nothing


@pytest.mark.parametrize(
    "text",
    [
        "PATH=/usr/bin",
        "DB_PASSWORD=$DB_PASSWORD",
        "API_TOKEN=${API_TOKEN}",
        "--build-arg needs KEY=VALUE, got 'X'",  # a placeholder in repro's own messages
        "DB_PASSWORD=",
        "RUN make",
    ],
)
def test_what_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_mask_json_masks_values_of_secret_keys_and_scans_every_string() -> None:
    document = {
        "Labels": {"db.password": "x", "note": f"TOKEN={SECRET}"},
        "Env": ["A=1", f"SECRET_KEY={SECRET}"],
        "size": 3,
    }
    assert mask_json(document) == {
        "Labels": {"db.password": shown("x"), "note": f"TOKEN={shown(SECRET)}"},
        "Env": ["A=1", f"SECRET_KEY={shown(SECRET)}"],
        "size": 3,
    }


def test_build_arguments() -> None:
    args = {"DB_PASSWORD": SECRET, "VERSION": "1.0", "URL": f"https://u:{SECRET}@h/"}
    assert mask_mapping(args) == {
        "DB_PASSWORD": shown(SECRET),
        "VERSION": "1.0",
        "URL": f"https://u:{shown(SECRET)}@h/",
    }
    assert masked_keys(args) == ["DB_PASSWORD", "URL"]


def test_count_masked() -> None:
    assert count_masked(mask_text(f"A_TOKEN={SECRET} B_TOKEN={SECRET}")) == 2
    assert count_masked("nothing here") == 0


def test_a_masker_masks_known_values_wherever_they_appear() -> None:
    masker = Masker([SECRET, "ab"])  # too short to mask as a bare word
    line = f'#5 [2/3] RUN echo "{SECRET}" > /pw && echo ab'
    assert masker.text(line) == f'#5 [2/3] RUN echo "{shown(SECRET)}" > /pw && echo ab'


def test_secret_values_are_the_literal_arg_and_env_values_of_secret_names() -> None:
    dockerfile = parse_dockerfile(
        b"FROM scratch\n"
        b'ARG DB_PASSWORD="hunter two" VERSION=1\n'
        b"ARG API_TOKEN\n"
        b"ENV CLIENT_SECRET=abc\\ def OTHER=$DB_PASSWORD\n"
        b"ENV SSH_KEY legacy form\n"
        b"ENV DERIVED_TOKEN=${DB_PASSWORD}\n",
        "Dockerfile",
    )
    assert secret_values(dockerfile) == ("hunter two", "abc def", "legacy form")


def test_secret_values_split_at_the_first_equals_and_read_every_pair() -> None:
    dockerfile = parse_dockerfile(
        b"FROM scratch\nARG VERSION=1 TOKEN=a=b\nARG KEY=k\n",
        "Dockerfile",
    )
    assert secret_values(dockerfile) == ("a=b", "k")


def test_secret_values_unescape_with_the_files_escape_character() -> None:
    dockerfile = parse_dockerfile(
        b"# escape=`\nFROM scratch\nARG TOKEN=x`y\nENV API_KEY=c:\\dir\n",
        "Dockerfile",
    )
    assert secret_values(dockerfile) == ("xy", "c:\\dir")
