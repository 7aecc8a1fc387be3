"""Uploads: type is read from the file's bytes (not its name), size is limited, and files
live in the private storage, served only by views that check permission."""

import contextlib
import mimetypes
import threading
import unicodedata
import warnings
from pathlib import PurePath
from urllib.parse import quote

import filetype
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import storages
from django.db import transaction
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


def _read_all(upload) -> bytes:
    upload.seek(0)
    try:
        return upload.read()
    finally:
        upload.seek(0)


def _pdf_problem(data: bytes) -> str | None:
    """Why these bytes are not a PDF one can read (None when they are): it must parse, be
    readable without a password and have at least one page."""
    import io
    import logging

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # a damaged file is the user's, not a server warning
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            return "设置了打开密码，无法查看。请上传未加密的 PDF"
        if len(reader.pages) == 0:
            return "没有任何页面"
    except (PyPdfError, ValueError, TypeError, KeyError, IndexError, AttributeError, OSError, RecursionError):
        return "已损坏或不是完整的 PDF 文件，无法打开"
    finally:
        pypdf_log.setLevel(level)
    return None


_DECODING = threading.Lock()


@contextlib.contextmanager
def _strict_decoding(image_file):
    """WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process when it is
    imported, which makes a truncated upload decode "fine": refuse truncation while
    checking an upload."""
    with _DECODING:
        lenient, image_file.LOAD_TRUNCATED_IMAGES = image_file.LOAD_TRUNCATED_IMAGES, False
        try:
            yield
        finally:
            image_file.LOAD_TRUNCATED_IMAGES = lenient


def _image_problem(data: bytes) -> str | None:
    """Why these bytes are not an image one can show (None when they are): the whole image
    must decode, and a decompression bomb is refused."""
    import io

    from PIL import Image, ImageFile

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                im.verify()  # structure and checksums
            with Image.open(io.BytesIO(data)) as im, _strict_decoding(ImageFile):
                im.load()  # verify() does not decode the pixels: a truncated file passes it
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "图像尺寸过大，无法处理。请缩小后再上传"
    except (OSError, SyntaxError, ValueError, TypeError, IndexError, EOFError):
        return "已损坏或不完整，无法显示"
    return None


CONTENT_CHECKS = {"pdf": _pdf_problem, "jpg": _image_problem, "png": _image_problem}


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
    check = CONTENT_CHECKS.get(kind)
    problem = check(_read_all(upload)) if check else None
    if problem:
        raise ValidationError(f"文件“{upload.name}”{problem}。请重新导出或扫描后再上传。", code="unreadable")
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


# Characters no file name may hold on common systems (a "/" would make the browser keep
# only what follows it), replaced by "_"; Chinese and other letters are kept.
_UNSAFE_IN_NAMES = set('/\\:*?"<>|')


def safe_filename(name: str, *, default: str = "文件") -> str:
    """A download name every browser and file system keeps whole."""
    cleaned = "".join(
        "_" if ch in _UNSAFE_IN_NAMES or unicodedata.category(ch)[0] == "C" else ch
        for ch in unicodedata.normalize("NFC", name or "")
    )
    cleaned = cleaned.strip().strip(".")
    if len(cleaned) > 150:  # keep the extension when cutting a long organisation name
        suffix = PurePath(cleaned).suffix[:10]
        cleaned = cleaned[: 150 - len(suffix)] + suffix
    return cleaned or default


def content_disposition(filename: str, *, as_attachment: bool) -> str:
    """The Content-Disposition value: an ASCII `filename=` for old clients and the UTF-8
    name as `filename*=` (RFC 5987/6266), both from the sanitised name."""
    name = safe_filename(filename)
    suffix = PurePath(name).suffix
    ascii_stem = "".join(ch for ch in name[: len(name) - len(suffix)] if 32 <= ord(ch) < 127 and ch not in '"\\%')
    ascii_name = (ascii_stem.strip(" -_") or "download") + "".join(ch for ch in suffix if ch.isascii())
    disposition = "attachment" if as_attachment else "inline"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def serve_private(fieldfile, *, download_name: str, as_attachment: bool = False) -> FileResponse:
    """Stream a private file; callers have already checked permission."""
    if not fieldfile or not fieldfile.storage.exists(fieldfile.name):
        raise Http404("文件不存在")
    content_type = mimetypes.guess_type(download_name)[0] or "application/octet-stream"
    response = FileResponse(fieldfile.open("rb"), content_type=content_type)
    response["Content-Disposition"] = content_disposition(download_name, as_attachment=as_attachment)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# ---- files written inside a transaction --------------------------------------------------------


class StoredFiles:
    """The file fields a block may store into; see `atomic_with_files`."""

    def __init__(self):
        self._watched = []

    def watch(self, instance, field_name: str) -> None:
        """From now on, a file stored into `instance.<field_name>` is deleted if the block
        fails. Call it before the save that writes the file (FieldFile.save, or Model.save
        for an upload assigned to the field)."""
        current = getattr(instance, field_name)
        before = current.name if current and getattr(current, "_committed", True) else None
        self._watched.append((instance, field_name, before))

    def delete_new(self) -> None:
        for instance, field_name, before in self._watched:
            ff = getattr(instance, field_name)
            if ff and ff.name and getattr(ff, "_committed", False) and ff.name != before:
                with contextlib.suppress(OSError):
                    ff.storage.delete(ff.name)


@contextlib.contextmanager
def atomic_with_files():
    """`transaction.atomic()` for a block that stores files. The database forgets a rolled
    back row, the storage does not: a file stored by a watched field inside the block is
    deleted again if the block raises. Django has no on-rollback hook, so this works when
    the block is the outermost one that can fail (the service's own transaction).

        with atomic_with_files() as files:
            files.watch(doc, "file")
            doc.file.save(name, upload, save=False)
            doc.save()
    """
    stored = StoredFiles()
    try:
        with transaction.atomic():
            yield stored
    except BaseException:
        stored.delete_new()
        raise
