"""Uploads: type is read from the file's bytes (not its name), size is limited, and files
live in the private storage, served only by views that check permission."""

import mimetypes
from pathlib import PurePath

import filetype
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.http import FileResponse, Http404

KINDS = {
    "pdf": ("application/pdf", "PDF"),
    "jpg": ("image/jpeg", "JPG"),
    "png": ("image/png", "PNG"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel（.xlsx）"),
}
DOCUMENT_KINDS = ("pdf", "jpg", "png")


def private_storage():
    return storages["private"]


def human_size(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def sniff(upload) -> str | None:
    """The kind ('pdf', 'jpg', ...) the bytes say, or None."""
    pos = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(pos)
    if head.startswith(b"%PDF-"):
        return "pdf"
    guess = filetype.guess(head)
    if guess is None:
        return None
    if guess.mime == "application/zip" or guess.extension == "xlsx":
        return "xlsx" if _is_xlsx(upload) else None
    for kind, (mime, _) in KINDS.items():
        if guess.mime == mime:
            return kind
    return None


def _is_xlsx(upload) -> bool:
    import zipfile

    pos = upload.tell()
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as z:
            return "xl/workbook.xml" in z.namelist()
    except zipfile.BadZipFile:
        return False
    finally:
        upload.seek(pos)


def validate_upload(upload, *, kinds=DOCUMENT_KINDS, max_bytes: int | None = None) -> str:
    """Check an uploaded file; return its real kind. Raises ValidationError in Chinese."""
    max_bytes = max_bytes or settings.UPLOAD_MAX_BYTES
    allowed = "、".join(KINDS[k][1] for k in kinds)
    if upload is None or upload.size == 0:
        raise ValidationError("上传的文件是空的，请重新选择文件。", code="empty")
    if upload.size > max_bytes:
        raise ValidationError(
            f"文件“{upload.name}”大小为 {human_size(upload.size)}，超过了 {human_size(max_bytes)} 的上限，请压缩后再上传。",
            code="too_big",
        )
    kind = sniff(upload)
    if kind not in kinds:
        raise ValidationError(
            f"文件“{upload.name}”的实际内容不是允许的类型（只接受 {allowed}）。请勿仅修改扩展名。",
            code="bad_type",
        )
    ext = PurePath(upload.name).suffix.lower().lstrip(".")
    if ext == "jpeg":
        ext = "jpg"
    if ext and ext != kind:
        raise ValidationError(
            f"文件“{upload.name}”的扩展名与实际内容（{KINDS[kind][1]}）不符，请检查后重新上传。", code="ext_mismatch"
        )
    return kind


class SafeFileField(forms.FileField):
    """A form file field that checks bytes and size; the real kind ends up in `.kind`."""

    def __init__(self, *args, kinds=DOCUMENT_KINDS, max_bytes=None, **kwargs):
        self.kinds, self.max_bytes = kinds, max_bytes
        kwargs.setdefault(
            "error_messages", {"required": "请选择要上传的文件。", "empty": "上传的文件是空的，请重新选择文件。"}
        )
        super().__init__(*args, **kwargs)
        self.widget.attrs.setdefault("accept", ",".join("." + k for k in kinds))

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload and upload is not initial:
            upload.kind = validate_upload(upload, kinds=self.kinds, max_bytes=self.max_bytes)
        return upload


def serve_private(fieldfile, *, download_name: str, as_attachment: bool = False) -> FileResponse:
    """Stream a private file; callers have already checked permission."""
    if not fieldfile or not fieldfile.storage.exists(fieldfile.name):
        raise Http404("文件不存在")
    content_type = mimetypes.guess_type(download_name)[0] or "application/octet-stream"
    response = FileResponse(
        fieldfile.open("rb"), as_attachment=as_attachment, filename=download_name, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
