"""The engines one hoso process works with, built from its settings: database, object store, search index.

Built lazily once per process (after a fork, a worker builds its own: database connections are not shared
across processes).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from archive.config import Settings
from archive.db import make_engine, make_sessions
from archive.storage import LocalObjectStore, ObjectStore
from search.index import SearchIndex


@dataclass
class Runtime:
    settings: Settings
    pid: int = field(default_factory=os.getpid)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return make_sessions(self.engine)

    @cached_property
    def store(self) -> ObjectStore:
        """An S3 bucket when HOSO_STORAGE_URL is set (s3://…), else the local directory HOSO_STORAGE_DIR."""
        if self.settings.storage_url:
            from archive.s3_storage import S3ObjectStore  # the minio client only where it is used

            return S3ObjectStore.from_settings(self.settings)
        return LocalObjectStore(self.settings.storage_dir)

    @cached_property
    def index(self) -> SearchIndex:
        """Elasticsearch when HOSO_SEARCH_URL is set, else the embedded Tantivy index; opened on first use."""
        if self.settings.search_url:
            from search.elastic_index import ElasticIndex

            return ElasticIndex(self.settings.search_url, index_prefix=self.settings.search_index)
        from search.tantivy_index import TantivyIndex  # most commands never search

        return TantivyIndex(self.settings.index_dir)


_current: Runtime | None = None


def current_runtime() -> Runtime:
    """This process's runtime, rebuilt after a fork so no connection crosses a process boundary."""
    global _current
    if _current is None or _current.pid != os.getpid():
        settings = Settings.from_env()
        settings.ensure_dirs()
        _current = Runtime(settings)
    return _current
