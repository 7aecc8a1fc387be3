"""Uploads: the bytes decide the type, sizes are limited, messages are Chinese."""

import io

import openpyxl
import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter

from core.files import (
    SafeFileField,
    atomic_with_files,
    content_disposition,
    private_storage,
    safe_filename,
    serve_private,
    sniff,
    validate_upload,
)
from tests.factories import PDF_BYTES, PNG_BYTES


def image_bytes(fmt: str, size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, fmt)
    return buf.getvalue()


def pdf_bytes(pages: int = 1, password: str | None = None) -> bytes:
    """A PDF written by pypdf, as a scanner or office program would."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if password is not None:
        writer.encrypt(password)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


JPG_BYTES = image_bytes("JPEG")  # uploads are decoded, so the fixture is a real JPEG


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def xlsx_bytes():
    buf = io.BytesIO()
    wb = openpyxl.Workbook()
    wb.active["A1"] = "名称"
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    "name, content, kind",
    [
        ("a.pdf", PDF_BYTES, "pdf"),
        ("a.png", PNG_BYTES, "png"),
        ("a.jpg", JPG_BYTES, "jpg"),
        ("a.jpeg", JPG_BYTES, "jpg"),
    ],
)
def test_real_files_are_accepted_by_their_bytes(name, content, kind):
    assert validate_upload(upload(name, content)) == kind


def test_xlsx_is_recognised_only_when_it_is_a_workbook():
    assert sniff(upload("a.xlsx", xlsx_bytes())) == "xlsx"
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "not a workbook")
    assert sniff(upload("a.xlsx", buf.getvalue())) is None


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("证书.pdf", b"MZ\x90\x00" + b"\x00" * 100, "实际内容不是允许的类型"),  # an .exe renamed
        ("证书.pdf", "这是一段文字".encode(), "实际内容不是允许的类型"),
        ("证书.png", PDF_BYTES, "扩展名与实际内容（PDF）不符"),
        ("证书.pdf", b"", "上传的文件是空的"),
    ],
)
def test_disguised_and_empty_files_are_refused(name, content, message):
    with pytest.raises(ValidationError, match=message):
        validate_upload(upload(name, content))


def test_size_limit_message_names_the_limit(settings):
    settings.UPLOAD_MAX_BYTES = 1024
    big = PDF_BYTES + b"%" * 2048
    with pytest.raises(ValidationError, match="超过了 1 KB 的上限"):
        validate_upload(upload("big.pdf", big))


def test_only_the_allowed_kinds_pass():
    with pytest.raises(ValidationError, match="只接受 Excel"):
        validate_upload(upload("a.pdf", PDF_BYTES), kinds=("xlsx",))


class _Form(forms.Form):
    file = SafeFileField(label="文件")


def test_form_field_reports_errors_in_chinese_and_sets_kind():
    form = _Form(files={"file": upload("x.pdf", b"GIF89a" + b"\x00" * 20)})
    assert not form.is_valid()
    assert "实际内容不是允许的类型" in form.errors["file"][0]
    form = _Form(files={})
    assert not form.is_valid() and form.errors["file"] == ["请选择要上传的文件。"]
    form = _Form(files={"file": upload("x.pdf", PDF_BYTES)})
    assert form.is_valid() and form.cleaned_data["file"].kind == "pdf"


def test_private_files_are_outside_any_url(settings):
    from core.files import private_storage

    storage = private_storage()
    with pytest.raises(ValueError, match="私有文件没有公开地址"):
        storage.url("orgs/1/charter/v1.pdf")
    assert str(settings.STATIC_ROOT) not in str(storage.location)
    assert not str(storage.location).startswith(str(settings.MEDIA_ROOT))


@pytest.mark.django_db
def test_serve_private_sets_safe_headers(tmp_path):
    from django.core.files.storage import FileSystemStorage
    from django.db.models.fields.files import FieldFile
    from django.http import Http404

    storage = FileSystemStorage(location=tmp_path, base_url=None)
    storage.save("doc.pdf", io.BytesIO(PDF_BYTES))

    class _Field:
        pass

    field = _Field()
    field.storage = storage
    ff = FieldFile(None, field, "doc.pdf")
    response = serve_private(ff, download_name="登记证书.pdf")
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == PDF_BYTES
    with pytest.raises(Http404):
        serve_private(FieldFile(None, field, "missing.pdf"), download_name="x.pdf")


# ---- the content must open, not only start like the real thing (defect 9) -----------------------


@pytest.mark.parametrize(
    "content",
    [
        b"%PDF-1.4\n" + b"\x8f garbage that is no PDF at all " * 40,
        PDF_BYTES[: len(PDF_BYTES) // 2],  # cut off in the middle
        b"%PDF-1.7\n%%EOF\n",
    ],
    ids=["garbage", "truncated", "header-only"],
)
def test_a_pdf_that_does_not_parse_is_refused(content):
    with pytest.raises(ValidationError, match="已损坏或不是完整的 PDF 文件") as exc:
        validate_upload(upload("登记证书.pdf", content))
    assert exc.value.code == "unreadable"


def test_a_pdf_made_by_a_program_is_accepted():
    assert validate_upload(upload("登记证书.pdf", pdf_bytes(pages=3))) == "pdf"
    assert validate_upload(upload("章程.pdf", PDF_BYTES)) == "pdf"


def test_a_pdf_locked_with_a_password_is_refused_but_one_without_is_read():
    with pytest.raises(ValidationError, match="设置了打开密码，无法查看。请上传未加密的 PDF"):
        validate_upload(upload("登记证书.pdf", pdf_bytes(password="secret")))
    # encrypted with an empty user password: every reader opens it
    assert validate_upload(upload("登记证书.pdf", pdf_bytes(password=""))) == "pdf"


def test_a_pdf_without_pages_is_refused():
    with pytest.raises(ValidationError, match="没有任何页面"):
        validate_upload(upload("登记证书.pdf", pdf_bytes(pages=0)))


@pytest.mark.parametrize("fmt, name", [("PNG", "证书.png"), ("JPEG", "证书.jpg")])
def test_a_truncated_image_is_refused(fmt, name):
    data = image_bytes(fmt, size=(300, 200))
    with pytest.raises(ValidationError, match=f"文件“{name}”已损坏或不完整，无法显示"):
        validate_upload(upload(name, data[: len(data) // 2]))
    assert validate_upload(upload(name, data)) in ("png", "jpg")


def test_a_png_with_a_broken_checksum_is_refused():
    data = bytearray(PNG_BYTES)
    data[-20] ^= 0xFF  # inside the image data
    with pytest.raises(ValidationError, match="已损坏或不完整"):
        validate_upload(upload("证书.png", bytes(data)))


def test_a_decompression_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ValidationError, match="图像尺寸过大"):
        validate_upload(upload("证书.png", image_bytes("PNG", size=(40, 30))))


def test_the_form_field_refuses_a_fake_pdf_in_chinese():
    form = _Form(files={"file": upload("登记证书.pdf", b"%PDF-1.4\n" + b"x" * 500)})
    assert not form.is_valid()
    assert form.errors["file"] == [
        "文件“登记证书.pdf”已损坏或不是完整的 PDF 文件，无法打开。请重新导出或扫描后再上传。"
    ]


# ---- download names (defect 10) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, expected",
    [
        ("鄂州市A/B社工中心-登记证书-v1.pdf", "鄂州市A_B社工中心-登记证书-v1.pdf"),
        ('a\\b:c*d?e"f<g>h|i.pdf', "a_b_c_d_e_f_g_h_i.pdf"),
        ("换行\n回车\r制表\t零宽\u200b.pdf", "换行_回车_制表_零宽_.pdf"),
        ("..", "文件"),
        ("", "文件"),
    ],
)
def test_safe_filename_keeps_chinese_and_replaces_what_would_cut_the_name(name, expected):
    assert safe_filename(name) == expected


def test_a_long_name_is_cut_but_keeps_its_extension():
    name = safe_filename("社" * 300 + ".pdf")
    assert len(name) == 150 and name.endswith("社.pdf")


def test_content_disposition_has_an_ascii_fallback_and_the_utf8_name():
    value = content_disposition("鄂州市A/B中心-章程-v2.pdf", as_attachment=True)
    assert value == (
        'attachment; filename="A_B--v2.pdf"; '
        "filename*=UTF-8''%E9%84%82%E5%B7%9E%E5%B8%82A_B%E4%B8%AD%E5%BF%83-%E7%AB%A0%E7%A8%8B-v2.pdf"
    )
    assert content_disposition("年报.xlsx", as_attachment=False) == (
        "inline; filename=\"download.xlsx\"; filename*=UTF-8''%E5%B9%B4%E6%8A%A5.xlsx"
    )


# ---- files written in a transaction that rolls back (defect 12) ----------------------------------


class _Holder:
    """Stands in for a model instance with a file field on the private storage."""

    def __init__(self):
        from django.db.models.fields.files import FieldFile

        class _Field:
            storage = private_storage()

        self.file = FieldFile(self, _Field(), None)


@pytest.mark.django_db(transaction=True)
def test_a_file_stored_in_a_failing_block_is_deleted():
    storage = private_storage()
    holder = _Holder()
    with pytest.raises(RuntimeError), atomic_with_files() as files:
        files.watch(holder, "file")
        holder.file.name = storage.save("tests/rollback.pdf", io.BytesIO(PDF_BYTES))
        assert storage.exists(holder.file.name)
        raise RuntimeError("the save failed")
    assert not storage.exists(holder.file.name)


@pytest.mark.django_db(transaction=True)
def test_a_file_stored_in_a_block_that_commits_stays_and_an_old_one_is_never_touched():
    storage = private_storage()
    old = storage.save("tests/old.pdf", io.BytesIO(PDF_BYTES))
    holder = _Holder()
    holder.file.name = old
    with atomic_with_files() as files:
        files.watch(holder, "file")  # unchanged: the stored file is not this block's
    with pytest.raises(RuntimeError), atomic_with_files() as files:
        files.watch(holder, "file")
        raise RuntimeError
    assert storage.exists(old)
    storage.delete(old)
