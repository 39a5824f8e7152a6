"""The `originguard` command: a thin typer app. Only this module exits the process.

Exit codes: 0 ok, 1 findings or a failed probe, 2 usage or config error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from originguard.errors import ConfigErrors, OriginguardError
from originguard.notify import notify_status

if TYPE_CHECKING:
    from originguard.audit import Report

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
waf_app = typer.Typer(no_args_is_help=True, help="Web ACL tools.")
app.add_typer(waf_app, name="waf")
secret_app = typer.Typer(no_args_is_help=True, help="Create and rotate the secret origin header value.")
app.add_typer(secret_app, name="secret")

ConfigOption = Annotated[Path, typer.Option("-c", "--config", help="the YAML config file")]


def fail(error: OriginguardError, code: int = 2) -> NoReturn:
    """Print an error as lines (never a traceback) and exit."""
    lines = [str(e) for e in error.errors] if isinstance(error, ConfigErrors) else [str(error)]
    for line in lines:
        typer.echo(f"error: {line}", err=True)
    notify_status("; ".join(lines))  # a supervisor (`up`, systemd) learns why its child did not start
    raise typer.Exit(code)


JsonOption = Annotated[bool, typer.Option("--json", help="machine-readable output")]


def show_report(report: Report, as_json: bool) -> NoReturn:
    """Print a findings report and exit 0 (no failure) or 1."""
    typer.echo(report.to_json() if as_json else report.render_table())
    raise typer.Exit(0 if report.ok else 1)


def default_config(what: str) -> Path:
    """`./.originguard/originguard.yaml` (what `up` runs and writes), said on stderr; else exit 2."""
    from originguard.config.default import STATE_DIR

    path = Path(STATE_DIR) / "originguard.yaml"
    if not path.is_file():
        typer.echo(
            f"error: no config given and ./{path} does not exist: give -c FILE{what}, "
            "or run `originguard up` first (it writes that file)",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(f"using ./{path}", err=True)  # stderr keeps --json output clean
    return path


@app.command()
def check(
    config: Annotated[
        list[Path] | None,
        typer.Option(
            "-c",
            "--config",
            help="config file(s); several = environments (default: ./.originguard/originguard.yaml)",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Audit configs statically: the four origin-protection checks plus extras (exit 1 on a failure)."""
    from originguard.audit import check_configs
    from originguard.config import load_config

    paths = config or [default_config("")]
    try:
        loaded = [load_config(path) for path in paths]
        report = check_configs(loaded)
    except OriginguardError as exc:
        fail(exc)
    show_report(report, as_json)


@app.command()
def audit(
    files: Annotated[
        list[Path], typer.Argument(help="exported CloudFront / ELBv2 / WAFv2 / Ingress / Route 53 files")
    ],
    as_json: JsonOption = False,
) -> None:
    """Audit real cloud exports offline with the same checks (exit 1 on a failure or a skipped file)."""
    from originguard.audit import audit_paths

    report = audit_paths(files)
    for line in report.errors:  # skipped files; the others are audited (exit 2 if none could be)
        typer.echo(f"error: {line}", err=True)
    if not report.files_read:
        if as_json:
            typer.echo(report.to_json())
        raise typer.Exit(2)
    show_report(report, as_json)


@app.command()
def verify(
    config: Annotated[
        Path | None,
        typer.Option(
            "-c",
            "--config",
            help="probe the deployment of a config (default: ./.originguard/originguard.yaml)",
        ),
    ] = None,
    gate_url: Annotated[str | None, typer.Option(help="https://HOST:PORT of the gate")] = None,
    edge_url: Annotated[str | None, typer.Option(help="https://HOST:PORT of an edge")] = None,
    header: Annotated[str, typer.Option(help="the secret header's name")] = "X-Origin-Verify",
    ca_bundle: Annotated[
        Path | None, typer.Option(help="CA that signs the gate and edge certificates")
    ] = None,
    server_name: Annotated[str | None, typer.Option(help="TLS name of the gate")] = None,
    http_port: Annotated[
        list[int] | None, typer.Option(help="ports that must be closed (default 80)")
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds per probe")] = 5.0,
    as_json: JsonOption = False,
) -> None:
    """Probe a live deployment as an attacker would (exit 1 when any probe fails)."""
    from originguard.audit.verify import verify_config, verify_urls
    from originguard.config import load_config

    try:
        if config is None and gate_url is None:
            config = default_config(" or --gate-url URL")
        if config is not None:
            report = verify_config(load_config(config), timeout=timeout)
        elif gate_url is not None:
            report = verify_urls(
                gate_url,
                edge_url,
                header=header,
                ca_bundle=ca_bundle,
                server_name=server_name,
                http_probe_ports=http_port or [80],
                timeout=timeout,
            )
    except OriginguardError as exc:
        fail(exc)
    show_report(report, as_json)


@app.command()
def export(
    target: Annotated[str, typer.Argument(help="k8s (Ingress annotations) or cloudfront (origin snippet)")],
    config: ConfigOption,
    reveal_secret: Annotated[
        bool, typer.Option(help="inline the secret value instead of a placeholder")
    ] = False,
) -> None:
    """Print the cloud config that implements the same origin protection."""
    from originguard.audit import export_cloudfront, export_k8s
    from originguard.config import load_config

    exporters = {"k8s": export_k8s, "cloudfront": export_cloudfront}
    if target not in exporters:
        typer.echo(f"error: export target must be one of {sorted(exporters)}", err=True)
        raise typer.Exit(2)
    try:
        typer.echo(exporters[target](load_config(config, load_secrets=reveal_secret), reveal=reveal_secret))
    except OriginguardError as exc:
        fail(exc)


@app.command()
def up(
    config: Annotated[
        Path | None, typer.Option("-c", "--config", help="config file (default: embedded)")
    ] = None,
) -> None:
    """Run the whole stack (DNS router, edges, gate, demo app) as supervised processes."""
    from originguard.runtime import setup_logging
    from originguard.stack.run import run_stack

    setup_logging()
    try:
        run_stack(config)
    except OriginguardError as exc:
        fail(exc)


WorkerOption = Annotated[
    int | None, typer.Option("--worker", hidden=True, help="worker index (set by the parent)")
]


@app.command()
def gate(config: ConfigOption, worker: WorkerOption = None) -> None:
    """Run the origin gate of a config (HTTPS listeners, rules, target groups)."""
    from originguard.config import load_config
    from originguard.gate.process import run_gate
    from originguard.runtime import setup_logging

    setup_logging()
    try:
        run_gate(load_config(config), worker)
    except OriginguardError as exc:
        fail(exc)


@app.command()
def edge(
    config: ConfigOption,
    name: Annotated[str, typer.Option("--name", help="which edge of the config to run")],
    worker: WorkerOption = None,
) -> None:
    """Run one CDN edge of a config (viewer listeners, WAF, cache, origin signing)."""
    from originguard.config import load_config
    from originguard.edge.process import run_edge
    from originguard.runtime import setup_logging

    setup_logging()
    try:
        run_edge(load_config(config), name, worker)
    except OriginguardError as exc:
        fail(exc)


@app.command()
def invalidate(
    paths: Annotated[list[str], typer.Argument(help="paths to purge: /exact or /prefix*")],
    edge: Annotated[list[str], typer.Option("--edge", help="an edge admin address host:port (repeatable)")],
    token_file: Annotated[Path, typer.Option(help="file holding the admin token")],
) -> None:
    """Purge cached responses on one or more edges through their admin API."""
    from originguard.edge.invalidate import send_invalidation

    try:
        token = token_file.read_text().splitlines()[0].strip()
    except (OSError, IndexError):
        typer.echo(f"error: cannot read a token from {token_file}", err=True)
        raise typer.Exit(2) from None
    failed = False
    for address in edge:
        try:
            typer.echo(f"{address}: {send_invalidation(address, token, paths)}")
        except OriginguardError as exc:
            typer.echo(f"error: {address}: {exc}", err=True)
            failed = True
    raise typer.Exit(1 if failed else 0)


@app.command()
def dns(config: ConfigOption) -> None:
    """Run the DNS router of a config (authoritative for its zone, UDP and TCP)."""
    from originguard.config import load_config
    from originguard.dns.process import run_dns
    from originguard.runtime import setup_logging

    setup_logging()
    try:
        run_dns(load_config(config))
    except OriginguardError as exc:
        fail(exc)


@app.command()
def certs(
    directory: Annotated[Path, typer.Option("--dir", help="where to keep the CA and certificates")] = Path(
        ".originguard/certs"
    ),
) -> None:
    """Create (or reuse) the development CA and the edge and gate certificates."""
    from originguard.certs import ensure_dev_pki
    from originguard.config.default import DEV_CERT_NAMES

    made = ensure_dev_pki(directory, DEV_CERT_NAMES)
    for name, files in made.items():
        typer.echo(f"{name}: {files.certificate} (key {files.key}, mode 0600)")


@app.command("demo-app")
def demo_app(
    listen: Annotated[str, typer.Option(help="host:port to serve on")] = "127.0.0.1:9000",
    secret_header: Annotated[list[str] | None, typer.Option(help="header names to show as ***")] = None,
) -> None:
    """Run the demo app that shows the headers it received (secret headers masked)."""
    masked = secret_header or ["X-Origin-Verify"]
    from originguard.config.values import parse_host_port
    from originguard.demo_app import serve_demo_app

    try:
        address = parse_host_port(listen)
    except ValueError as exc:
        typer.echo(f"error: --listen: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        serve_demo_app(address, frozenset(h.lower().encode() for h in masked))
    except OriginguardError as exc:
        fail(exc)


@waf_app.command("import")
def waf_import(file: Annotated[Path, typer.Argument(help="a WAFv2 get-web-acl JSON export")]) -> None:
    """Convert a cloud web ACL export to our YAML; lists every part that cannot be mapped."""
    import json

    import yaml

    from originguard.waf import import_web_acl

    try:
        exported = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {file}: cannot read a JSON web ACL: {exc}", err=True)
        raise typer.Exit(2) from None
    if not isinstance(exported, dict):
        typer.echo(f"error: {file}: the top level must be an object ({{WebACL: ...}})", err=True)
        raise typer.Exit(2)
    acl, notes = import_web_acl(exported)
    name = str((exported.get("WebACL") or exported).get("Name") or "imported")
    typer.echo(yaml.safe_dump({"waf": {"web_acls": {name: acl}}}, sort_keys=False), nl=False)
    for note in notes:
        typer.echo(f"# not mapped: {note}", err=True)


@secret_app.command("new")
def secret_new(
    path: Annotated[Path, typer.Argument(help="file to write (mode 0600)")],
    force: Annotated[bool, typer.Option(help="overwrite an existing file")] = False,
) -> None:
    """Write a strong random secret value to a file."""
    from originguard.secrets import generate_secret_value, write_secret_file

    if path.exists() and not force:
        typer.echo(
            f"error: {path} exists; pass --force to replace it (use 'secret rotate' for a live stack)",
            err=True,
        )
        raise typer.Exit(2)
    write_secret_file(path, [generate_secret_value()])
    typer.echo(f"wrote a new secret to {path} (mode 0600)")


@secret_app.command("rotate")
def secret_rotate(
    config: Annotated[
        Path | None, typer.Option("-c", "--config", help="config (default: the embedded stack's)")
    ] = None,
    drain: Annotated[
        float, typer.Option(help="seconds edges get to finish requests signed with the old value")
    ] = 5.0,
    timeout: Annotated[float, typer.Option(help="seconds each phase may take to show")] = 30.0,
) -> None:
    """Change the secret header value on a running stack with zero failed requests."""
    from originguard.config import load_config
    from originguard.config.default import STATE_DIR
    from originguard.rotation.command import rotate

    path = config or Path(STATE_DIR) / "originguard.yaml"
    try:
        rotate(load_config(path), Path(STATE_DIR) / "run", drain=drain, timeout=timeout, say=typer.echo)
    except OriginguardError as exc:
        fail(exc, 1)
    typer.echo("rotation complete: edges send the new value, gates refuse the old one")


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
