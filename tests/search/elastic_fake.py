"""A stand-in Elasticsearch node at the client's own transport layer: it records every HTTP request the
real client sends and answers from a script, so the mapping, queries and bulk bodies can be checked
byte for byte without a server."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from elastic_transport import ApiResponseMeta, BaseNode, HttpHeaders
from elastic_transport._node import NodeApiResponse
from elasticsearch import Elasticsearch

Responder = Callable[["Sent"], tuple[int, Any]]


@dataclass(frozen=True)
class Sent:
    method: str
    path: str  # without the query string
    query: str
    body: bytes | None

    def json(self) -> Any:
        assert self.body is not None
        return json.loads(self.body)

    def ndjson(self) -> list[Any]:
        assert self.body is not None
        return [json.loads(line) for line in self.body.decode().splitlines() if line]


def default_answer(sent: Sent) -> tuple[int, Any]:
    """What a fresh server says: no index yet, every write acknowledged."""
    if sent.method == "HEAD":
        return 404, None
    if sent.path.startswith("/_resolve/index/"):
        return 200, {"indices": [], "aliases": [], "data_streams": []}
    if sent.path == "/_bulk":
        return 200, {"errors": False, "items": []}
    return 200, {"acknowledged": True}


class RecordingNode(BaseNode):
    sent: ClassVar[list[Sent]] = []
    answer: ClassVar[Responder] = staticmethod(default_answer)

    def perform_request(  # type: ignore[override]
        self, method: str, target: str, body: bytes | None = None, headers: Any = None, request_timeout: Any = None
    ) -> NodeApiResponse:
        path, _, query = target.partition("?")
        sent = Sent(method, path, query, body)
        type(self).sent.append(sent)
        status, payload = type(self).answer(sent)
        meta = ApiResponseMeta(
            status=status,
            http_version="1.1",
            headers=HttpHeaders({"x-elastic-product": "Elasticsearch", "content-type": "application/json"}),
            duration=0.0,
            node=self.config,
        )
        return NodeApiResponse(meta, b"" if payload is None else json.dumps(payload).encode())


def recording_client(answer: Responder = default_answer) -> tuple[Elasticsearch, list[Sent]]:
    """A real `Elasticsearch` client whose requests go to a fresh RecordingNode class."""
    node_class = type("Node", (RecordingNode,), {"sent": [], "answer": staticmethod(answer)})
    client = Elasticsearch("http://es.invalid:9200", node_class=node_class, retry_on_timeout=False, max_retries=0)
    return client, node_class.sent  # type: ignore[attr-defined]
