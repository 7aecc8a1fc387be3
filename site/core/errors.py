"""The one family of errors whose message is written for the user.

A service, a job or an import raises a `UserError` (or a subclass naming where it came
from) with a Chinese sentence; every screen shows `.message` as it is. Anything else is a
bug and becomes a 500 or a generic job failure."""


class UserError(Exception):
    """A refusal or failure the user can act on; `message` is shown as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message
