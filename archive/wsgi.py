"""The WSGI entry point for gunicorn (`gunicorn archive.wsgi:app`): the web app and API as `hoso serve` builds
them from the ``HOSO_*`` environment, without the worker process that `hoso serve` starts beside them.

In a deployment the page jobs run in `hoso worker` processes of their own (docker-compose.yml's ``worker``
service, or worker machines on the Redis queue), so the web containers can be scaled apart from the OCR.
Importing this module builds the app: it refuses an unmigrated database (run `hoso init` first) and believes
forwarded headers only from HOSO_TRUSTED_PROXIES (`archive/web/serving.py` says why).
"""

from archive.web.serving import build_wsgi_app

app = build_wsgi_app()
