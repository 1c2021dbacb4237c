"""Large downloads handed to the object store: a redirect to a presigned link when the store has them (S3).

The original and the archive PDF can weigh gigabytes; sent through the app they hold a web worker for the whole
transfer. On S3 the app checks scope as always, then answers 302 to a link signed for
``HOSO_S3_PRESIGN_SECONDS`` that makes the S3 server send the file under the same name and type the app would
have given it. The read is audited before the redirect leaves: ``audit_log.record_read`` treats a
``PresignedRedirect`` as the download it stands for, and a failure to write the entry fails the request.
The local store has no links, and ``HOSO_S3_PRESIGN_SECONDS=0`` turns them off for an S3 server the browsers
cannot reach; either way the app sends the file itself.

Page images are not redirected: they are small, and the pages' Content-Security-Policy allows images from
the app's own origin only.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

import flask
from werkzeug.datastructures import Headers
from werkzeug.exceptions import NotFound
from werkzeug.utils import redirect
from werkzeug.wrappers import Response

from archive.web import context


class PresignedRedirect(flask.Response):
    """A redirect to a presigned link of the object store: audited as a download of what it links to.

    A Flask response, so that Flask hands it on as it is rather than converting it (and losing the class)."""


def content_disposition(download_name: str, as_attachment: bool) -> str:
    """The Content-Disposition Flask's ``send_file`` would send: an ASCII ``filename`` and, for other letters,
    the RFC 6266 ``filename*``."""
    try:
        download_name.encode("ascii")
        names = {"filename": download_name}
    except UnicodeEncodeError:
        simple = unicodedata.normalize("NFKD", download_name).encode("ascii", "ignore").decode("ascii")
        names = {"filename": simple, "filename*": f"UTF-8''{quote(download_name, safe='!#$&+-.^_`|~')}"}
    headers = Headers()
    headers.set("Content-Disposition", "attachment" if as_attachment else "inline", **names)
    return headers["Content-Disposition"]


def presigned_download(key: str, media_type: str, download_name: str, as_attachment: bool) -> Response | None:
    """A redirect to the object's presigned link, or None when the app must send the file itself."""
    runtime = context.runtime()
    seconds = runtime.settings.s3_presign_seconds
    if seconds <= 0:
        return None
    disposition = content_disposition(download_name, as_attachment)
    url = runtime.store.presigned_url(key, seconds, media_type=media_type, disposition=disposition)
    if url is None:
        return None
    if not runtime.store.exists(key):  # signing asks the server nothing; a missing object answers 404 here
        raise NotFound(f"Object {key} is not in the store.")
    response = redirect(url, 302, Response=PresignedRedirect)
    response.cache_control.no_store = True  # the link expires; a kept redirect would lead nowhere
    return response
