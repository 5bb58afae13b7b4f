"""What ``sealkit keys csr`` and ``sealkit token csr`` share: the subject options and writing the request."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click
from sealkit_cli.common import emit

from sealkit.ukey import PrivateKeyHandle, certificate_request, request_subject

F = TypeVar("F", bound=Callable[..., Any])

_USCC_IN = {"org-id": "organization_identifier", "serial": "serial_number", "ou": "organizational_unit_name"}


def subject_options(func: F) -> F:
    """The request's subject (flags, or a unit form) and where it goes."""
    options = [
        click.option("--cn", help="Common name (default: the unit form's 单位名称)."),
        click.option("--org", help="Organization (default: the unit form's 单位全称)."),
        click.option("--ou", help="Organizational unit."),
        click.option("--uscc", help="Unified social credit code (统一社会信用代码)."),
        click.option(
            "--uscc-in",
            type=click.Choice(sorted(_USCC_IN)),
            default="org-id",
            show_default=True,
            help="Where the USCC goes: organizationIdentifier, serialNumber or OU (ask your CA).",
        ),
        click.option("--province", help="Province (default: from the unit form's region code)."),
        click.option("--city", help="City (locality)."),
        click.option(
            "--form", "form_path", type=click.Path(dir_okay=False), help="Unit form (附件3) for the subject."
        ),
        click.option(
            "--purpose",
            type=click.Choice(["signing", "encryption", "any"]),
            default="signing",
            show_default=True,
            help="Key usage asked of the CA.",
        ),
        click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False),
            help="Write the request here (default: stdout).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def write_request(key: PrivateKeyHandle, options: dict[str, Any], as_json: bool) -> None:
    """Build the request for ``key`` from the subject ``options`` and print or write it."""
    from sealkit.seal import load_form

    form = load_form(options["form_path"]) if options.get("form_path") else None
    subject = request_subject(
        common_name=options.get("cn"),
        organization=options.get("org"),
        organizational_unit=options.get("ou"),
        uscc=options.get("uscc"),
        uscc_attribute=cast(Any, _USCC_IN[options.get("uscc_in") or "org-id"]),
        province=options.get("province"),
        locality=options.get("city"),
        form=form,
    )
    pem = certificate_request(key, subject, purpose=options.get("purpose") or "signing")
    output = options.get("output")
    if output:
        Path(output).write_bytes(pem)
    data = {"key": key.label, "kind": str(key.kind), "subject": subject, "output": output}
    if output:
        emit(data, as_json, f"request for {key.label} ({key.kind}) written to {output}: send it to your CA")
    elif as_json:
        emit({**data, "pem": pem.decode()}, True, "")
    else:
        click.echo(pem.decode(), nl=False)
