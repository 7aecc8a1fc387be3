"""匿名评审 (a call's `blind_review`): what a reviewer reads with the applicant's identity
taken out.

`Masker` replaces, inside any text, the organisation's name (and the name without its
leading 省/市/区/街道, "海马爸比亲子服务中心" for "鄂州市海马爸比亲子服务中心"), its USCC,
legal representative, contact, phone, address and the project team's names ("成员1"…).
`mask_document` applies it to grants.pdf's `proposal_document` and keeps only the
organisation facts that say nothing about who applied. Attachments are served under
"附件1.pdf"… (`attachment_name`) and a PDF without its document information and XMP
(`strip_pdf_metadata`)."""

import io
import re
from pathlib import PurePath

from accounts.models import Region

ORG_PLACEHOLDER = "申报组织"
HIDDEN = "（已隐藏）"
# the organisation facts a blind reviewer still reads (grants.pdf organisation_rows labels)
BLIND_ORG_LABELS = ("组织类型", "评估等级")
# and every reviewer: no bank account, no phone
REVIEWER_ORG_HIDDEN = ("开户银行", "账户名称", "银行账号", "联系电话")
_PROVINCE = re.compile(r"^[\u4e00-\u9fff]{2,3}(?:省|自治区)")
MIN_SHORT_NAME = 4


def region_prefixes() -> list[str]:
    """The names of cities, districts and streets, longest first: what an organisation's
    name may start with (one query)."""
    names = Region.objects.filter(level__lte=Region.Level.STREET).values_list("name", flat=True)
    return sorted(set(names), key=len, reverse=True)


def short_name(name: str, prefixes) -> str:
    """The organisation's name without the places it starts with; "" when what is left is
    too short to mask safely."""
    rest = _PROVINCE.sub("", name or "")
    changed = True
    while changed:
        changed = False
        for p in prefixes:
            if p and rest.startswith(p):
                rest, changed = rest[len(p) :], True
                break
    return rest if rest != name and len(rest) >= MIN_SHORT_NAME else ""


class Masker:
    """Replaces identifying strings inside free text, longest first."""

    def __init__(self, pairs: list[tuple[str, str]]):
        seen, clean = set(), []
        for needle, replacement in pairs:
            needle = (needle or "").strip()
            if len(needle) >= 2 and needle not in seen:
                seen.add(needle)
                clean.append((needle, replacement))
        clean.sort(key=lambda p: len(p[0]), reverse=True)
        self.pairs = clean
        self._pattern = re.compile("|".join(re.escape(n) for n, _ in clean)) if clean else None
        self._lookup = dict(clean)

    def __call__(self, text):
        if not isinstance(text, str) or self._pattern is None or not text:
            return text
        return self._pattern.sub(lambda m: self._lookup[m.group(0)], text)

    @classmethod
    def for_names(cls, names, prefixes) -> "Masker":
        """Only the organisation's name(s): for a title in a list."""
        pairs = []
        for name in names:
            pairs.append((name, ORG_PLACEHOLDER))
            pairs.append((short_name(name, prefixes), ORG_PLACEHOLDER))
        return cls(pairs)


def team_labels(team: list[dict]) -> dict[str, str]:
    """Team member name → "成员k", in the document's order."""
    labels: dict[str, str] = {}
    for m in team:
        name = (m.get("name") or "").strip()
        if name and name not in labels:
            labels[name] = f"成员{len(labels) + 1}"
    return labels


def document_masker(doc: dict, organisation, prefixes) -> Masker:
    """Everything identifying the applicant of `doc` (its frozen facts and today's)."""
    facts = _facts(doc)
    names = {facts.get("name", ""), organisation.name if organisation is not None else ""}
    pairs = []
    for name in names:
        pairs += [(name, ORG_PLACEHOLDER), (short_name(name, prefixes), ORG_PLACEHOLDER)]
    pairs += list(team_labels(doc.get("team", [])).items())
    people = [
        (facts.get("legal_representative"), "法定代表人"),
        (facts.get("contact_name"), "联系人"),
    ]
    if organisation is not None:
        people += [(organisation.legal_representative, "法定代表人"), (organisation.contact_name, "联系人")]
    pairs += people
    for value in (
        facts.get("uscc"),
        facts.get("contact_phone"),
        facts.get("address"),
        facts.get("bank_account"),
        getattr(organisation, "uscc", ""),
        getattr(organisation, "contact_phone", ""),
        getattr(organisation, "address", ""),
    ):
        pairs.append((value, HIDDEN))
    return Masker(pairs)


def _facts(doc) -> dict:
    version = doc.get("version")
    if version is not None:
        return version.data.get("organisation", {})
    return {"name": doc.get("org_name", "")}


def reviewer_document(doc: dict, organisation, *, blind: bool, prefixes=()) -> dict:
    """`proposal_document` as a reviewer reads it: never the bank account or phone; in a
    blind call nothing that names the applicant."""
    rows = [(label, value) for label, value in doc["org_rows"] if label not in REVIEWER_ORG_HIDDEN]
    if not blind:
        return {**doc, "org_rows": rows}
    mask = document_masker(doc, organisation, prefixes)
    labels = team_labels(doc.get("team", []))
    f = {k: (mask(v) if isinstance(v, str) else v) for k, v in doc["f"].items()}
    f["cited_needs"] = [mask(n) for n in doc["f"].get("cited_needs") or []]
    return {
        **doc,
        "blind": True,
        "org_name": ORG_PLACEHOLDER,
        "org_rows": [(label, value) for label, value in rows if label in BLIND_ORG_LABELS]
        + [("说明", "匿名评审：组织名称、信用代码、法定代表人、联系人和地址已隐藏。")],
        "f": f,
        "cited_needs": [mask(n) for n in doc["cited_needs"]],
        "budget": [{**line, "item": mask(line["item"]), "note": mask(line["note"])} for line in doc["budget"]],
        "activities": [
            {**a, "name": mask(a.get("name")), "content": mask(a.get("content"))} for a in doc["activities"]
        ],
        "team": [
            {
                **m,
                "name": labels.get((m.get("name") or "").strip(), f"成员{i}"),
                "role": mask(m.get("role")),
                "qualifications": mask(m.get("qualifications")),
            }
            for i, m in enumerate(doc["team"], start=1)
        ],
        "kpis": [{**k, "indicator": mask(k.get("indicator")), "method": mask(k.get("method"))} for k in doc["kpis"]],
        "attachments": [],
    }


# ---- attachments ----------------------------------------------------------------------------------


def attachment_name(number: int, original: str) -> str:
    """ "附件3.pdf": the number in the proposal and the original extension only."""
    suffix = PurePath(original or "").suffix.lower()
    suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix or "") else ""
    return f"附件{number}{suffix}"


# the keys of a PDF's catalog and pages that carry metadata about who made it
_CATALOG_KEYS = ("/Metadata", "/PieceInfo")
_PAGE_KEYS = ("/Metadata", "/PieceInfo")


class UnreadablePDF(Exception):
    pass


def strip_pdf_metadata(data: bytes) -> bytes:
    """The same PDF without its document information (/Author, /Title, /Creator,
    /Producer, /Subject, /Keywords …) and XMP streams. UnreadablePDF if it cannot be
    parsed (the original is then never served in a blind call)."""
    import logging

    from pypdf import PdfReader, PdfWriter
    from pypdf.errors import PyPdfError

    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise UnreadablePDF("encrypted")
        writer = PdfWriter(clone_from=reader)
        writer.metadata = None
        writer.xmp_metadata = None
        root = writer.root_object
        for key in _CATALOG_KEYS:
            if key in root:
                del root[key]
        for page in writer.pages:
            for key in _PAGE_KEYS:
                if key in page:
                    del page[key]
        # the cloned streams no longer referenced (the XMP, the old /Info) would still be
        # written: drop them, pass after pass, until nothing else comes loose
        left = -1
        while left != (left := sum(o is not None for o in writer._objects)):
            writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except (PyPdfError, ValueError, TypeError, KeyError, IndexError, AttributeError, OSError, RecursionError) as exc:
        raise UnreadablePDF(str(exc)) from exc
    finally:
        pypdf_log.setLevel(level)
