"""One exception per intake failure a user can meet, each with an error code, an English detail for logs and
the API, a Vietnamese message for the UI, and a remedy: what to do about it.
"""

from __future__ import annotations


class IngestError(Exception):
    """A file refused at intake. Nothing of it is kept in the store or the database."""

    code = "ingest_error"
    http_status = 400
    detail = "The file could not be accepted."
    message_vi = "Không thể tiếp nhận tệp."
    remedy_vi = ""

    def __init__(self, detail: str | None = None):
        if detail:
            self.detail = detail
        super().__init__(self.detail)

    def to_dict(self) -> dict[str, str]:
        return {"error": self.code, "detail": self.detail, "message_vi": self.message_vi, "remedy_vi": self.remedy_vi}


class EmptyFile(IngestError):
    code = "empty_file"
    detail = "The uploaded file is empty (0 bytes)."
    message_vi = "Tệp tải lên rỗng (0 byte)."
    remedy_vi = "Kiểm tra lại tệp quét rồi tải lên lại."


class FileTooLarge(IngestError):
    code = "file_too_large"
    http_status = 413
    detail = "The file is larger than the configured limit (HOSO_MAX_UPLOAD_MB)."
    message_vi = "Tệp vượt quá dung lượng cho phép."
    remedy_vi = "Chia hồ sơ thành các tệp nhỏ hơn hoặc quét ở độ phân giải 300 dpi."


class UnsupportedType(IngestError):
    code = "unsupported_type"
    http_status = 415
    detail = "The file is not a PDF."
    message_vi = "Tệp không phải là PDF."
    remedy_vi = "Xuất bản quét ra định dạng PDF rồi tải lên lại."


class UnreadablePdf(IngestError):
    code = "unreadable_pdf"
    detail = "The PDF is damaged and cannot be read."
    message_vi = "Tệp PDF bị hỏng, không đọc được."
    remedy_vi = "Quét lại hồ sơ hoặc xuất lại tệp PDF từ phần mềm máy quét."


class EncryptedPdf(IngestError):
    code = "encrypted_pdf"
    detail = (
        "The PDF is encrypted with a password. Remove the password first, e.g. "
        "`qpdf --password=PASSWORD --decrypt in.pdf out.pdf`, then upload the decrypted file."
    )
    message_vi = "Tệp PDF được đặt mật khẩu."
    remedy_vi = "Gỡ mật khẩu (ví dụ: qpdf --password=MẬT_KHẨU --decrypt vao.pdf ra.pdf) rồi tải lên lại."


class NoPages(IngestError):
    code = "no_pages"
    detail = "The PDF has no pages."
    message_vi = "Tệp PDF không có trang nào."
    remedy_vi = "Kiểm tra lại bản quét rồi tải lên lại."


class TooManyPages(IngestError):
    code = "too_many_pages"
    http_status = 413
    detail = "The PDF has more pages than the configured limit (HOSO_MAX_PAGES)."
    message_vi = "Tệp PDF có quá nhiều trang."
    remedy_vi = "Chia hồ sơ thành nhiều tệp nhỏ hơn."


class UnknownUnit(IngestError):
    code = "unknown_unit"
    http_status = 404
    detail = "No unit has this code."
    message_vi = "Không tìm thấy đơn vị."
    remedy_vi = "Chọn một đơn vị có trong danh mục."
