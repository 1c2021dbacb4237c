"""The engines a worker writes to that only its own machine can reach, and the check that stops a shared Redis
queue from spanning two machines while a worker on it uses one.

Redis lets `hoso worker` run on many machines, but each worker writes records, objects and index entries
wherever its own settings say. A SQLite file, the local object directory and the Tantivy index live on one
machine's disk: a worker elsewhere would write to a copy of its own, and the dossiers it finished would be
missing everywhere else (Tantivy also allows one writer per index, taking turns through a lock file that
only processes of the same machine see). So every worker on a Redis queue announces in Redis, every few
seconds, its machine and the machine-local engines it uses, and a worker that would make the queue span
two machines while either side uses one refuses to start, naming the settings to change.
"""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit, urlunsplit

from redis import Redis

from archive.config import Settings

ANNOUNCE_TTL_SECONDS = 30  # a stopped machine is forgotten this long after its last worker's last heartbeat


class SharedQueueConflict(RuntimeError):
    """Workers on two machines on one queue, and at least one of them on an engine only its machine reaches."""


def machine_local_engines(settings: Settings) -> list[str]:
    """The engines of these settings that live on this machine's disk, each with the setting that moves it."""
    found = []
    if settings.database_url.startswith("sqlite"):
        found.append("the SQLite database (set HOSO_DATABASE_URL to PostgreSQL)")
    if not settings.storage_url:
        found.append(f"the local object store in {settings.storage_dir} (set HOSO_STORAGE_URL to s3://…)")
    if not settings.search_url:
        found.append(f"the Tantivy search index in {settings.index_dir} (set HOSO_SEARCH_URL to Elasticsearch)")
    return found


def machine_name() -> str:
    return socket.gethostname()


def _key(queue_name: str, machine: str) -> str:
    return f"hoso:{queue_name}:machine:{machine}"


def announce(redis: Redis, queue_name: str, settings: Settings) -> None:
    """Say in Redis that this machine runs workers on the queue, and with which machine-local engines."""
    redis.set(_key(queue_name, machine_name()), json.dumps(machine_local_engines(settings)), ex=ANNOUNCE_TTL_SECONDS)


def other_machines(redis: Redis, queue_name: str) -> dict[str, list[str]]:
    """The other machines whose workers announced themselves lately, with their machine-local engines."""
    prefix = _key(queue_name, "")
    found = {}
    for key in redis.scan_iter(match=f"{prefix}*"):
        name = key.decode() if isinstance(key, bytes) else str(key)
        machine = name[len(prefix) :]
        value = redis.get(name)
        if machine != machine_name() and value is not None:
            found[machine] = json.loads(value)
    return found


def check(redis: Redis, queue_name: str, settings: Settings) -> None:
    """Raise SharedQueueConflict if workers of another machine share the queue and either side cannot share."""
    others = other_machines(redis, queue_name)
    mine = machine_local_engines(settings)
    if not others or not (mine or any(others.values())):
        return
    theirs = sorted({engine for engines in others.values() for engine in engines})
    raise SharedQueueConflict(
        f"workers on several machines ({machine_name()} and {', '.join(sorted(others))}) share the queue at "
        f"{safe_url(settings.redis_url)}, but some use engines only their own machine can reach: "
        f"this machine {mine or 'none'}, the others {theirs or 'none'}. Workers on several machines need "
        "PostgreSQL (HOSO_DATABASE_URL), an S3 object store (HOSO_STORAGE_URL) and Elasticsearch "
        "(HOSO_SEARCH_URL); see docs/workers.md"
    )


def safe_url(url: str) -> str:
    """The URL with its password hidden, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))
