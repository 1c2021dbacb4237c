"""How the web app is served in a deployment (`archive/wsgi.py` under gunicorn): a schema check and trusted proxies.

Unlike `hoso serve`, the WSGI entry does not migrate the database: gunicorn imports it once in each of its
worker processes, on every app machine at once, and concurrent Alembic upgrades would race. Migrations run
once, before the app starts (`hoso init`, the compose file's ``migrate`` service); here the schema is only
checked, so an app started against an unmigrated database stops at once with the remedy instead of answering
every request with an error.

Behind a proxy or load balancer every request arrives from the proxy's address, and the sign-in rate limit,
counted per client address, would then count all users together. The proxies named in HOSO_TRUSTED_PROXIES
are believed about the client (``X-Forwarded-For``) and the scheme (``X-Forwarded-Proto``), through
Werkzeug's ProxyFix; anyone else's forwarded headers are ignored, so a client reaching gunicorn directly
cannot pick the address it is counted under.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from archive.db import alembic_config
from archive.runtime import Runtime, current_runtime
from archive.web import create_app


class SchemaNotReady(RuntimeError):
    """The database is not at the newest migration: `hoso init` has not run against it."""


def check_schema(runtime: Runtime) -> None:
    """Raise ``SchemaNotReady`` unless the database's Alembic revision is the code's newest one."""
    expected = set(ScriptDirectory.from_config(alembic_config(runtime.settings.database_url)).get_heads())
    with runtime.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current != expected:
        raise SchemaNotReady(
            f"database schema is at {sorted(current) or 'no revision'}, the code needs {sorted(expected)}: "
            "run `hoso init` (docker compose: the migrate service) before starting the app"
        )


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> list[Network]:
    """``10.0.0.5, 10.0.1.0/24`` as networks; an entry that is neither an address nor a network is an error."""
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if entry:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError as error:
                raise ValueError(f"HOSO_TRUSTED_PROXIES: {entry!r} is not an IP address or network") from error
    return networks


class TrustedProxies:
    """WSGI middleware: ProxyFix (one proxy hop: client address and scheme) for requests from a trusted peer."""

    def __init__(self, wsgi_app: Any, networks: Iterable[Network]):
        self.direct = wsgi_app
        self.proxied = ProxyFix(wsgi_app, x_for=1, x_proto=1, x_host=0, x_port=0, x_prefix=0)
        self.networks = tuple(networks)

    def trusts(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:  # a Unix socket, or nothing
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        trusted = self.trusts(environ.get("REMOTE_ADDR", ""))
        return (self.proxied if trusted else self.direct)(environ, start_response)


def build_wsgi_app() -> Flask:
    """The app for this process's settings, after checking that the database is migrated."""
    runtime = current_runtime()
    check_schema(runtime)
    app = create_app(runtime)
    networks = parse_networks(runtime.settings.trusted_proxies)
    if networks:
        app.wsgi_app = TrustedProxies(app.wsgi_app, networks)  # type: ignore[method-assign]
    return app
