"""``sealkit dev``: a TEST PKI, a TEST CA that answers requests, a local TEST TSA (never for real use)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path

import click
from sealkit_cli.common import emit, json_option

from sealkit.errors import InvalidInput, ServiceError


@click.group()
def dev() -> None:
    """TEST tools for trying sealkit: a test PKI, a test CA and a local TSA. Never for real documents."""


@dev.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@json_option
def pki(directory: Path, as_json: bool) -> None:
    """Write a TEST hierarchy into DIRECTORY (SM2 and RSA roots, signer, encryption, seal-maker and TSA
    certificates with their keys, a trust-anchor file) and print the configuration lines that use it."""
    from sealkit.dev.hierarchy import write_dev_pki

    made = write_dev_pki(directory)
    data = {
        "directory": str(directory),
        "trust_anchors": str(made.trust_anchors),
        "identities": {
            name: {"key": str(made.bundle(name)), "certificate": str(made.certificate(name))}
            for name in made.identities
        },
        "config": made.config_lines(),
    }

    def human() -> None:
        click.echo(f"TEST PKI in {directory} (never for real documents):")
        for name in made.identities:
            click.echo(f"  {name:<15} key file:{made.bundle(name)}  certificate {made.certificate(name)}")
        click.echo(f"  trust anchors   {made.trust_anchors}")
        click.echo("\nadd to sealkit.toml:\n")
        click.echo(made.config_lines())

    emit(data, as_json, human)


@dev.command()
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--pages", type=click.IntRange(1, 50), default=3, show_default=True)
@click.option(
    "--format",
    "kind",
    type=click.Choice(["pdf", "ofd"]),
    default=None,
    help="PDF or OFD (GB/T 33190); default: from the output's extension, else PDF.",
)
def contract(output: Path, pages: int, kind: str | None) -> None:
    """Write a sample 政府采购合同 (TEST data) with both parties' signature blocks on its last page."""
    kind = kind or ("ofd" if output.suffix.lower() == ".ofd" else "pdf")
    if kind == "ofd":
        from sealkit.dev.sample_ofd import write_sample_contract_ofd

        write_sample_contract_ofd(output, pages=pages)
    else:
        from sealkit.dev.sample_contract import write_sample_contract

        write_sample_contract(output, pages=pages)
    click.echo(f"sample {kind.upper()} contract written to {output} ({pages} pages)")


@dev.command()
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.argument("request", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--root", type=click.Choice(["sm2", "rsa"]), default="sm2", show_default=True)
@click.option(
    "--role", type=click.Choice(["sign", "encrypt", "seal-maker", "tsa"]), default="sign", show_default=True
)
@json_option
def certify(directory: Path, request: Path, output: Path, root: str, role: str, as_json: bool) -> None:
    """Answer REQUEST (a PKCS#10 request from 'sealkit keys csr') as the TEST CA in DIRECTORY."""
    from sealkit.dev.pki import make_test_pki

    if not (directory / root / "root" / "cert.pem").is_file():
        raise InvalidInput(f"{directory} holds no test PKI: run 'sealkit dev pki {directory}' first")
    pem = make_test_pki(directory / root, root).certify(request.read_bytes(), role)
    output.write_bytes(pem)
    emit({"certificate": str(output)}, as_json, f"TEST certificate written to {output}")


@dev.command()
@click.argument("directory", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--port", type=int, default=3161, show_default=True, help="Port on 127.0.0.1 (0: any free port)."
)
@click.option(
    "--background", is_flag=True, help="Listen, then detach; stop with 'sealkit dev tsa DIR --stop'."
)
@click.option("--stop", is_flag=True, help="Stop the TSA started with --background.")
def tsa(directory: Path, port: int, background: bool, stop: bool) -> None:
    """Serve a TEST RFC 3161 TSA (with OCSP and CRL) on 127.0.0.1 for the SM2 root in DIRECTORY."""
    from sealkit.dev.pki import make_test_pki
    from sealkit.dev.services import PkiServices

    pid_file = directory / "tsa.pid"
    if stop:
        _stop(pid_file)
        return
    if not (directory / "sm2" / "root" / "cert.pem").is_file():
        raise InvalidInput(f"{directory} holds no test PKI: run 'sealkit dev pki {directory}' first")
    try:
        services, server = PkiServices.bind(make_test_pki(directory / "sm2", "sm2"), port=port)
    except OSError as exc:
        raise ServiceError(
            f"cannot listen on 127.0.0.1:{port} ({exc.strerror}): choose another --port"
        ) from None
    click.echo(f"TEST TSA at {services.tsa_url} (OCSP {services.ocsp_url}, CRL {services.crl_url})")
    if background:
        child = os.fork()
        if child:
            pid_file.write_text(f"{child}\n")
            click.echo(f"running in the background (pid {child}); stop: sealkit dev tsa {directory} --stop")
            return
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        try:
            server.serve_forever()
        finally:
            os._exit(0)
    click.echo("Ctrl-C stops it")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    sys.exit(0)


def _stop(pid_file: Path) -> None:
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        raise InvalidInput(f"no background TSA recorded in {pid_file}") from None
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    pid_file.unlink(missing_ok=True)
    click.echo(f"TEST TSA (pid {pid}) stopped")
