"""Text messages to mobile numbers through a pluggable backend, shaped like Django's
e-mail backends: `settings.SMS_BACKEND` names a class with `send_messages(messages)`.

Shipped backends: `ConsoleBackend` (development: prints the message) and `LocmemBackend`
(tests: appends to `accounts.sms.outbox`). A production provider (阿里云短信, 腾讯云短信 …)
is one more class with the same method, named in the setting."""

import sys
import threading
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "accounts.sms.ConsoleBackend"

# what LocmemBackend sent, oldest first (tests empty it between tests)
outbox: list["TextMessage"] = []


@dataclass(frozen=True)
class TextMessage:
    to: str
    body: str


class BaseBackend:
    def send_messages(self, messages: list[TextMessage]) -> int:
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    _lock = threading.Lock()

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout

    def send_messages(self, messages):
        with self._lock:
            for m in messages:
                self.stream.write(f"[短信] 发往 {m.to}：{m.body}\n")
            self.stream.flush()
        return len(messages)


class LocmemBackend(BaseBackend):
    def send_messages(self, messages):
        outbox.extend(messages)
        return len(messages)


def get_backend() -> BaseBackend:
    return import_string(getattr(settings, "SMS_BACKEND", DEFAULT_BACKEND))()


def send_sms(to: str, body: str) -> int:
    return get_backend().send_messages([TextMessage(to=to, body=body)])
