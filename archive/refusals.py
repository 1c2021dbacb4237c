"""The shape every refusal a person can meet shares, whichever part of hoso refuses.

A refusal carries a stable code and an English detail for the API and the logs, a Vietnamese message
and remedy for the UI, and the HTTP status the web layer answers with; the web layer turns any of them
into a response in one place (archive/web/errors.py), so intake and handover errors cannot drift apart.
"""

from __future__ import annotations


class Refusal(Exception):
    code = "refused"
    http_status = 400
    detail = "The request was refused."
    message_vi = "Không thể thực hiện yêu cầu."
    remedy_vi = ""

    def __init__(self, detail: str | None = None):
        if detail:
            self.detail = detail
        super().__init__(self.detail)

    def to_dict(self) -> dict[str, str]:
        return {"error": self.code, "detail": self.detail, "message_vi": self.message_vi, "remedy_vi": self.remedy_vi}
