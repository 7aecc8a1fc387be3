"""Read a rendered HTML form the way a browser submits it: what a test then posts is what
the page really offers, not what the test thinks the page holds."""

from html.parser import HTMLParser

SUBMITTED_INPUT_TYPES = {
    "text",
    "tel",
    "email",
    "number",
    "date",
    "datetime-local",
    "month",
    "hidden",
    "url",
    "password",
    "",
}


class _FormReader(HTMLParser):
    def __init__(self, form_index: int | None, action: str | None):
        super().__init__(convert_charrefs=True)
        self.form_index, self.action = form_index, action
        self.forms_seen = -1
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self.files: list[str] = []
        self.inputs: dict[str, dict] = {}  # name -> attributes of its (first) input
        self._select = None  # (name, multiple, options [(value, selected)])
        self._option = None
        self._textarea = None

    def _wanted(self, attrs) -> bool:
        if self.action is not None:
            return attrs.get("action", "") == self.action
        return self.form_index is None or self.forms_seen == self.form_index

    def _add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "form":
            self.forms_seen += 1
            self.inside = self._wanted(attrs)
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            self.inputs.setdefault(name, attrs)
            kind = attrs.get("type", "text").lower()
            if "disabled" in attrs:
                return  # a browser does not submit a disabled field
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._add(name, attrs.get("value", "on"))
            elif kind == "file":
                self.files.append(name)
            elif kind in SUBMITTED_INPUT_TYPES:
                self._add(name, attrs.get("value", ""))
        elif tag == "select" and name:
            self.inputs.setdefault(name, attrs)
            self._select = (name, "multiple" in attrs, [], "disabled" in attrs)
        elif tag == "option" and self._select is not None:
            self._option = [attrs.get("value"), "selected" in attrs, ""]
            self._select[2].append(self._option)
        elif tag == "textarea" and name:
            self.inputs.setdefault(name, attrs)
            self._textarea = [name, [], "disabled" in attrs]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)
        elif self._option is not None:
            self._option[2] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            name, multiple, options, disabled = self._select
            self._select = None
            if disabled:
                return
            values = [(o[0] if o[0] is not None else o[2].strip()) for o in options if o[1]]
            if not values and not multiple and options:  # a browser submits the first option
                values = [options[0][0] if options[0][0] is not None else options[0][2].strip()]
            for v in values:
                self._add(name, v)
        elif tag == "textarea" and self._textarea is not None:
            name, parts, disabled = self._textarea
            self._textarea = None
            if not disabled:
                text = "".join(parts)
                # the HTML parser keeps the newline a browser drops right after <textarea>
                self._add(name, text[1:] if text.startswith("\n") else text)


class FormData:
    """`data` is what a browser would POST (name -> list of values); `files` the names of
    the file inputs; `inputs` the attributes of each named control."""

    def __init__(self, reader: _FormReader):
        self.data = reader.data
        self.files = reader.files
        self.inputs = reader.inputs

    def post_data(self) -> dict:
        """For django.test.Client.post: single values as strings, several as lists."""
        return {k: (v[0] if len(v) == 1 else v) for k, v in self.data.items()}


def read_form(html: str, *, index: int | None = None, action: str | None = None) -> FormData:
    """The controls of one form of `html`: the one posting to `action`, or the `index`-th
    form, or (neither given) all forms' controls together."""
    reader = _FormReader(index, action)
    reader.feed(html)
    reader.close()
    return FormData(reader)
