"""Uploads: the bytes decide the type, sizes are limited, messages are Chinese."""

import io

import openpyxl
import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from core.files import SafeFileField, serve_private, sniff, validate_upload
from tests.factories import PDF_BYTES, PNG_BYTES

JPG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


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
