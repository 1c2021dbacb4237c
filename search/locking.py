"""An inter-process lock file, because Tantivy allows one writer per index and several processes write.

`flock` is held per open file, so two processes, or two index objects in one process, take turns; the
kernel releases it if the holder dies, so a crashed worker never leaves the index locked.
"""

import fcntl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_RETRY_SECONDS = 0.05


@contextmanager
def exclusive_lock(lock_path: Path, timeout: float) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path`, retrying until `timeout` seconds; TimeoutError after that."""
    deadline = time.monotonic() + timeout
    with open(lock_path, "a+b") as lock_file:
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(
                        f"another process has been writing to the search index for over {timeout:g} s "
                        f"(lock file {lock_path}); try again later"
                    ) from None
                time.sleep(_RETRY_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)
