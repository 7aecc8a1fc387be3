"""Local development: DEBUG on, console e-mail, immediate tasks, SQLite by default."""

from .base import *  # noqa: F403
from .base import SECRET_KEY

DEBUG = True
SECRET_KEY = SECRET_KEY or "dev-only-insecure-key-do-not-use-in-production-0123456789"
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]
