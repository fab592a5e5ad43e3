"""`sandbox submit`: what it sends, what it prints, and its exit codes, against a stand-in."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from fastapi.responses import Response

from sandbox.hosted.packing import pack_pilot

from .conftest import TOKEN, Served, error, pre_run


@pytest.fixture(autouse=True)
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_TOKEN", TOKEN)
    monkeypatch.delenv("SANDBOX_SERVER", raising=False)


def test_a_queued_pilot_is_streamed_gzip_chunked_with_the_token_and_exits_0(
    cli, served: Served, pilot: Path
) -> None:
    ran = cli("submit", str(pilot), "--server", served.url)
    assert ran.code == 0, ran.err
    (seen,) = served.script.seen
    digest = pack_pilot(pilot).digest
    assert seen["sha256"] == digest  # the archive pack_pilot makes, byte for byte
    assert seen["headers"]["content-type"] == "application/gzip"
    assert seen["headers"]["transfer-encoding"] == "chunked"  # streamed, not buffered whole
    assert seen["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert f"Archive {digest}" in ran.out
    assert "✓ manifest.required-fields: every required field is present" in ran.out
    assert "pre-run verdict: passed" in ran.out
    assert "Job job_aaaaaaaaaaaaaaaaaaaaaaaaaa queued" in ran.out


def test_a_blocked_pilot_exits_3_and_its_rule_messages_cannot_drive_the_terminal(
    cli, served: Served, pilot: Path
) -> None:
    hostile = "owner missing \x1b]0;pwned\x07 [bold]not markup[/bold] \u202eevil"
    body = {"status": "blocked", "archive_sha256": pack_pilot(pilot).digest, "job": None}
    served.script.submission = (200, {**body, "pre_run": pre_run("blocked", hostile)})
    ran = cli("submit", str(pilot), "--server", served.url)
    assert ran.code == 3
    assert "✗ manifest.required-fields (block): owner missing \\x1b]0;pwned\\x07" in ran.out
    assert "[bold]not markup[/bold]" in ran.out and "\\u202eevil" in ran.out
    assert "\x1b]" not in ran.out and "\u202e" not in ran.out
    assert "pre-run verdict: blocked" in ran.out and "no job was queued" in ran.out


def test_the_token_comes_from_a_private_file(
    cli, served: Served, pilot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SANDBOX_TOKEN")
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o644)
    ran = cli("submit", str(pilot), "--server", served.url, "--token-file", str(token_file))
    assert ran.code == 2 and f"run `chmod 600 {token_file}`" in ran.err
    assert served.script.seen == []  # nothing sent
    token_file.chmod(0o600)
    ran = cli("submit", str(pilot), "--server", served.url, "--token-file", str(token_file))
    assert ran.code == 0, ran.err
    assert served.script.seen[0]["headers"]["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "empty"),
        (b"sbx_" + b"x" * 5000, "over 4096 bytes"),
        (b"sbx_a b", "not a token"),
        (b"\xff\xfe", "not ASCII text"),
    ],
)
def test_a_bad_token_file_is_refused_before_anything_is_sent(
    cli, served: Served, pilot: Path, tmp_path: Path, content: bytes, said: str
) -> None:
    token_file = tmp_path / "token"
    token_file.write_bytes(content)
    token_file.chmod(0o600)
    ran = cli("submit", str(pilot), "--server", served.url, "--token-file", str(token_file))
    assert ran.code == 2 and said in ran.err and f"--token-file {token_file}" in ran.err
    assert served.script.seen == []


def test_no_token_names_the_variable_and_the_option(
    cli, served: Served, pilot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SANDBOX_TOKEN")
    ran = cli("submit", str(pilot), "--server", served.url)
    assert ran.code == 2
    assert "no token: set SANDBOX_TOKEN, or pass --token-file FILE" in ran.err
    assert len(ran.err.strip().splitlines()) == 1


def test_a_folder_the_packer_refuses_exits_2_naming_it(
    cli, served: Served, pilot: Path, tmp_path: Path
) -> None:
    (tmp_path / "secret.csv").write_text("x\n")
    (pilot / "data" / "outside.csv").symlink_to(tmp_path / "secret.csv")
    ran = cli("submit", str(pilot), "--server", served.url)
    assert ran.code == 2
    assert f"{pilot}/data/outside.csv: a link that points outside the pilot folder" in ran.err
    assert served.script.seen == []


@pytest.mark.parametrize(
    ("server", "said"),
    [
        ("http://sandbox.example.org", "not a loopback address"),
        ("http://10.0.0.8:8600", "not a loopback address"),
        ("ftp://127.0.0.1", "not an http(s) URL"),
        ("https://user:pw@sandbox.example.org", "no user, query or fragment"),
        ("https://sandbox.example.org:99999", "is not a URL"),
    ],
)
def test_plain_http_goes_only_to_loopback(cli, pilot: Path, server: str, said: str) -> None:
    ran = cli("submit", str(pilot), "--server", server)
    assert ran.code == 2 and said in ran.err, ran.err


def test_a_refused_archive_exits_2_with_the_server_s_reason(
    cli, served: Served, pilot: Path
) -> None:
    served.script.submission = (
        400,
        error(400, "archive entry 'data/../x': a '..' part in the name"),
    )
    ran = cli("submit", str(pilot), "--server", served.url)
    assert ran.code == 2
    assert "refused (400): archive entry 'data/../x': a '..' part in the name" in ran.err


def test_a_token_the_server_refuses_exits_2_saying_where_the_token_comes_from(
    cli, served: Served, pilot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SANDBOX_TOKEN", "sbx_0123456789ab_" + "B" * 43)
    ran = cli("submit", str(pilot), "--server", served.url)
    assert ran.code == 2
    assert "the token is not valid" in ran.err and "SANDBOX_TOKEN or --token-file" in ran.err


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (Response("boom", status_code=500), "the server failed (500): boom"),
        (Response("x" * (5 * 1024 * 1024), status_code=202), "the client's cap"),
        (Response("not json", status_code=202), "not JSON"),
        (Response('{"status": "queued"}', status_code=202), "queued but has no job"),
        (Response("", status_code=302, headers={"location": "http://x"}), "redirects (302)"),
    ],
)
def test_a_failing_or_broken_server_exits_1_in_one_line(
    cli, served: Served, pilot: Path, answer: Response, said: str
) -> None:
    served.script.raw = answer
    ran = cli("submit", str(pilot), "--server", served.url)
    assert ran.code == 1
    assert said in ran.err and len(ran.err.strip().splitlines()) == 1, ran.err


def test_a_server_that_is_not_there_exits_1_in_one_line(cli, pilot: Path) -> None:
    with socket.socket() as sock:  # a loopback port that was free: nothing listens on it now
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ran = cli("submit", str(pilot), "--server", f"http://127.0.0.1:{port}")
    assert ran.code == 1
    assert "cannot reach the server" in ran.err and len(ran.err.strip().splitlines()) == 1


def test_an_answer_for_another_archive_is_refused(cli, served: Served, pilot: Path) -> None:
    body = {
        "status": "blocked",
        "archive_sha256": "sha256:" + "f" * 64,
        "job": None,
        "pre_run": pre_run("blocked"),
    }
    served.script.submission = (200, body)
    ran = cli("submit", str(pilot), "--server", served.url)
    assert ran.code == 1 and "not as the sha256:" in ran.err


def test_https_checks_the_server_s_certificate_and_a_private_authority_is_trusted_on_request(
    cli, served_tls: tuple[Served, Path], pilot: Path
) -> None:
    served, cert = served_tls
    unknown = cli("submit", str(pilot), "--server", served.url)
    assert unknown.code == 1 and "CERTIFICATE_VERIFY_FAILED" in unknown.err
    assert served.script.seen == []  # nothing, the token included, went to an unverified peer
    trusted = cli("submit", str(pilot), "--server", served.url, "--ca-file", str(cert))
    assert trusted.code == 0, trusted.err
    missing = cli("submit", str(pilot), "--server", served.url, "--ca-file", str(cert) + ".x")
    assert missing.code == 2 and "--ca-file" in missing.err
