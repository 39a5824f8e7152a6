"""`originguard up [-c FILE]`: prepare state, start every component, print how to prove the promise."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from pathlib import Path

from originguard.certs import ensure_dev_pki
from originguard.config import LoadedConfig, load_config
from originguard.config.default import DEFAULT_CONFIG_YAML, DEV_CERT_NAMES, STATE_DIR
from originguard.config.values import HostPort
from originguard.errors import OriginguardError
from originguard.notify import notify_ready
from originguard.runtime import install_uvloop
from originguard.secrets import generate_secret_value, write_secret_file
from originguard.stack.plan import plan_children, status_lines
from originguard.supervision.supervisor import Supervisor, supervise

log = logging.getLogger("originguard.up")

DEMO_APP = HostPort("127.0.0.1", 9000)
READY_TIMEOUT = 30.0


def prepare_default(state_dir: Path) -> Path:
    """Create the dev CA, certificates and secret on first run (kept later); write the default config."""
    ensure_dev_pki(state_dir / "certs", DEV_CERT_NAMES)
    for name in ("origin-verify", "admin-token"):
        secret = state_dir / "secrets" / name
        if not secret.exists():
            write_secret_file(secret, [generate_secret_value()])
    path = state_dir / "originguard.yaml"
    # Absolute paths, so children and SIGHUP reloads read the same files whatever their cwd.
    text = DEFAULT_CONFIG_YAML.replace(".originguard/", str(state_dir.resolve()) + "/")
    path.write_text("# The embedded default of `originguard up` (rewritten on every start).\n" + text)
    return path


def run_stack(config: Path | None) -> None:
    """Validate, start, supervise until SIGINT/SIGTERM; SIGHUP re-validates then reloads every child."""
    if config is None:
        config = prepare_default(Path(STATE_DIR))
        demo: HostPort | None = DEMO_APP
    else:
        demo = None
    loaded = load_config(config)  # a bad config stops here, before any child starts
    _compile_web_acls(loaded)
    install_uvloop()
    asyncio.run(_supervise(loaded, config, demo))


def _compile_web_acls(loaded: LoadedConfig) -> None:
    """Compile every web ACL once here: a CRS file that does not load stops `up` before any child
    starts, each edge then compiles its own in ~0.7 s."""
    from originguard.edge.runtime import compile_web_acl

    waf = loaded.config.waf
    for name in waf.web_acls if waf is not None else ():
        compile_web_acl(loaded, name)


async def _supervise(loaded: LoadedConfig, config: Path, demo: HostPort | None) -> None:
    specs = plan_children(loaded.config, str(config.resolve()), demo_app=demo)
    supervisor = Supervisor(specs, Path(STATE_DIR) / "run", executable=[sys.executable, "-m", "originguard"])
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)

    def reload() -> None:
        try:
            load_config(config)
        except OriginguardError as exc:
            log.error("reload refused, every component keeps its config: %s", exc)
            return
        supervisor.signal_all(signal.SIGHUP)  # each component reloads in place, none restarts

    loop.add_signal_handler(signal.SIGHUP, reload)

    def announce() -> None:
        print("\n".join(status_lines(loaded.config)), flush=True)
        notify_ready()  # `up` itself under systemd Type=notify

    await supervise(supervisor, stop, announce, READY_TIMEOUT)
