"""``sealkit serve``: run the HTTP service (FastAPI on uvicorn; the ``service`` extra) with the config's
``[service]`` section; ``--new-api-key`` prints a fresh client key and the line the configuration stores,
``--client-id CERT`` the lines that name a client by its TLS certificate."""

from __future__ import annotations

import socket
from pathlib import Path

import click
from sealkit_cli.common import get_config

from sealkit.errors import ConfigError


@click.command(name="serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8750, show_default=True, type=int, help="Port to listen on (0: any free).")
@click.option(
    "--tls-cert",
    type=click.Path(dir_okay=False, exists=True),
    help="TLS certificate (PEM; [service] tls_cert).",
)
@click.option(
    "--tls-key",
    type=click.Path(dir_okay=False, exists=True),
    help="TLS private key (PEM; [service] tls_key).",
)
@click.option(
    "--client-ca",
    type=click.Path(dir_okay=False, exists=True),
    help="Ask clients for TLS certificates from these CAs (PEM; [service] client_ca).",
)
@click.option(
    "--grace",
    default=60,
    show_default=True,
    type=int,
    help="Seconds to let requests in flight finish on SIGTERM.",
)
@click.option("--new-api-key", is_flag=True, help="Print a new client API key and its hash, then exit.")
@click.option(
    "--client-id",
    type=click.Path(dir_okay=False, exists=True),
    help="Print the cert_sha256 and cert_subject lines for a client's certificate, then exit.",
)
def serve(
    host: str,
    port: int,
    tls_cert: str | None,
    tls_key: str | None,
    client_ca: str | None,
    grace: int,
    new_api_key: bool,
    client_id: str | None,
) -> None:
    """Serve the signing, verification, seal and bid API over HTTP (OpenAPI at /docs)."""
    try:
        import uvicorn

        from sealkit.service import client_id_lines, create_app, hash_api_key, uvicorn_tls_options
        from sealkit.service import new_api_key as make_key
    except ModuleNotFoundError as exc:
        raise ConfigError(
            f"'sealkit serve' needs {exc.name}: install sealkit with the service extra (sealkit[service])"
        ) from None
    if new_api_key:
        key = make_key()
        click.echo(f"API key (give it to the client; it is not stored): {key}")
        click.echo(f'api_key_sha256 = "{hash_api_key(key)}"')
        return
    if client_id:
        for line in client_id_lines(client_id):
            click.echo(line)
        return
    config = get_config()
    given = {"tls_cert": tls_cert, "tls_key": tls_key, "client_ca": client_ca}
    if any(given.values()):  # the command line wins over [service]
        section = dict(config.section("service"))
        section.update({k: str(Path(v).resolve()) for k, v in given.items() if v})
        config.raw["service"] = section
    app = create_app(config)
    tls = uvicorn_tls_options(app.state.sealkit.settings)
    listener = socket.create_server((host, port))  # port 0: any free port, printed below
    bound = listener.getsockname()[1]
    scheme = "https" if tls else "http"
    click.echo(f"sealkit serve: listening on {scheme}://{host}:{bound}", err=True)
    with listener:
        uvicorn.run(
            app,
            fd=listener.fileno(),
            **tls,
            timeout_graceful_shutdown=grace,
            access_log=False,  # the service writes its own access log (no keys, with the client's name)
            log_level="warning",
        )
