"""Local development: DEBUG on, console e-mail, immediate tasks, SQLite by default."""

from .base import *  # noqa: F403
from .base import SECRET_KEY, VAR_DIR

DEBUG = True
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production-0123456789"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

# the SQLite file, uploads and private files live here; a fresh clone has no var/ yet
VAR_DIR.mkdir(parents=True, exist_ok=True)
