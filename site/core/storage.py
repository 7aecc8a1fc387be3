from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    """Files with no public URL at all: they are streamed by views that check permission."""

    def url(self, name):
        raise ValueError("私有文件没有公开地址，请通过权限检查的视图下载。")
