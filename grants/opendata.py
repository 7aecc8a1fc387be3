"""Open data: every awarded grant in the 360Giving Data Standard (JSON and CSV).

    package = grants_package()                  # {"grants": [...], "title": …, "publisher": …}
    content = package_json(package)             # the bytes of /opendata/grants.json
    content = package_csv(package)              # the bytes of /opendata/grants.csv
    validate_package(package)                   # ValidationError (jsonschema) if it breaks the standard

Published at /opendata/grants.json, /opendata/grants.csv (grants/views/opendata.py, public, cached)
and by `manage.py export_grants --format 360giving --output FILE`.

Which grants: every proposal approved or later (批复立项 and the funded states of
grants.models.proposals FUNDED_STATES, terminated ones included: the grant was made), never one
declined (未立项) or still in review. What each record holds, and nothing else (no phone, no
bank account, no people's names, no reviewers, no scores):

- `id` — "<prefix>-<申报编号>", e.g. "360G-gongyi-GY2026-003-00012". 360Giving asks every
  publisher to prefix its own record numbers with the publisher prefix it is given on
  registering with 360Giving; prefixes start with "360G-" (standard.threesixtygiving.org,
  "Identifiers": "360G-indigotrust-Grant27"). The prefix is the setting OPENDATA_360G_PREFIX
  (default "360G-gongyi" until the platform registers and is given its own). The 申报编号 is
  assigned once, at the first submission, and never changes, so the identifier is stable.
- `title` (项目名称), `description` (项目简介, or the title when no summary was written),
  `currency` "CNY", `amountAwarded` (the approved amount as a JSON number, exact to the cent:
  60000 or 12345.67), `awardDate` (批复日期, local date), `plannedDates` (the first day of the
  start month to the last day of the end month), `dateModified`.
- `recipientOrganization` — `id` "CN-USCI-<统一社会信用代码>": org-id.guide lists the Unified
  Social Credit Identifier register as code **CN-USCI** (register org-id/register,
  lists/cn/cn-usci.json: "code": "CN-USCI", name 统一社会信用代码, confirmed, primary); note it is
  CN-USCI, not "CN-USC". An organisation without a USCC (a 备案 community group) gets
  "<prefix>-ORG-<its number here>", as 360Giving advises for organisations without a register
  identifier. `name` is the registered name.
- `fundingOrganization` — the call's 主办单位 as `name`. Our data holds no USCC for it, so its
  `id` is the platform's own: "<prefix>-FUNDER-<division code of the call's region>-<first 8
  hex digits of the SHA-1 of the organiser's name>" (e.g. "360G-gongyi-FUNDER-420704-1a2b3c4d"):
  the same organiser of the same region always gets the same id, two organisers of one region
  never share one. Should the call ever record the organiser's USCC, use CN-USCI instead.
- `beneficiaryLocation` — one per 实施地点: `name`, `countryCode` "CN", `geoCode` the region's
  administrative division code (GB/T 2260 行政区划代码, 6/9/12 digits). `geoCodeType` is left out:
  the standard's geoCodeType codelist (codelists/geoCodeType.csv) lists only UK ONS geography
  types (OA, LSOA, WD, LONB …), none for Chinese division codes, so no value it allows fits.
- `grantProgramme` — the call: `code` its number in this system, `title` its title.

CSV: the standard's flat format, one row per grant, the column titles of its summary table
(schema/summary-table/360-giving-schema-titles.csv/grants.csv: "Identifier", "Title",
"Amount Awarded", "Recipient Org:Identifier" …); several beneficiary locations go into numbered
columns ("Beneficiary Location:0:Name", "Beneficiary Location:1:Name" …) as the standard's
location guidance shows. UTF-8 with a byte-order mark, so Excel and WPS open the Chinese
correctly. A text cell that begins like a formula (= + - @) gets a leading apostrophe in the CSV
only (spreadsheet programs would run it); the JSON holds the text exactly.

Validation against the standard's own JSON Schema, shipped in grants/schemas/ (no maintained
360Giving validator is on PyPI here): `validate_package`."""

import csv
import datetime
import functools
import hashlib
import io
import json
import re
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.db.models import Count, Max, Prefetch, QuerySet, Sum
from django.utils import timezone

from accounts.models import Region
from core.excel import FORMULA_TRIGGERS

from .models import FUNDED_STATES, Proposal, ProposalStatus

P = ProposalStatus
AWARDED_STATES = (P.APPROVED, *FUNDED_STATES)
DEFAULT_PREFIX = "360G-gongyi"
USCI_REGISTER = "CN-USCI"  # org-id.guide: 统一社会信用代码
CURRENCY = "CNY"
COUNTRY = "CN"
SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
# the URL by which the package schema refers to the grant schema (resolved to our copy, offline)
GRANT_SCHEMA_URI = "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/master/schema/360-giving-schema.json"


def prefix() -> str:
    return getattr(settings, "OPENDATA_360G_PREFIX", "") or DEFAULT_PREFIX


# ---- identifiers -------------------------------------------------------------------------------


def grant_id(proposal: Proposal) -> str:
    return f"{prefix()}-{proposal.number or f'P{proposal.pk}'}"


def recipient_id(org) -> str:
    return f"{USCI_REGISTER}-{org.uscc}" if org.uscc else f"{prefix()}-ORG-{org.pk}"


def funder_id(call) -> str:
    name = re.sub(r"\s+", "", call.organiser or "")
    digest = hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]
    return f"{prefix()}-FUNDER-{call.region.code}-{digest}"


# ---- the records ---------------------------------------------------------------------------------


def awarded_proposals() -> QuerySet:
    """Every awarded grant with what its record reads: one query, and one for the places."""
    places = Prefetch("places", queryset=Region.objects.only("id", "name", "code", "path").order_by("path"))
    return (
        Proposal.objects.filter(status__in=AWARDED_STATES)
        .select_related("call__region", "organisation")
        .prefetch_related(places)
        .order_by("decided_at", "pk")
    )


def number(amount: Decimal):
    """A Decimal of money as the JSON number it is: 60000, 12345.67 (exact: at most 14 digits)."""
    amount = Decimal(amount).quantize(Decimal("0.01"))
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def _month_end(first: datetime.date) -> datetime.date:
    following = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def _stamp(moment) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def award_date(proposal: Proposal) -> datetime.date:
    if proposal.decided_at:
        return timezone.localdate(proposal.decided_at)
    return proposal.call.publicity_until  # approved before decided_at was kept: the end of the 公示


def grant_record(proposal: Proposal) -> dict:
    call, org = proposal.call, proposal.organisation
    amount = proposal.awarded_amount if proposal.awarded_amount is not None else proposal.grant_amount
    record = {
        "id": grant_id(proposal),
        "title": proposal.title or proposal.number,
        "description": proposal.summary or proposal.title or proposal.number,
        "currency": CURRENCY,
        "amountAwarded": number(amount),
        "awardDate": award_date(proposal).isoformat(),
    }
    if proposal.start_month and proposal.end_month:
        record["plannedDates"] = [
            {"startDate": proposal.start_month.isoformat(), "endDate": _month_end(proposal.end_month).isoformat()}
        ]
    record["recipientOrganization"] = [{"id": recipient_id(org), "name": org.name}]
    record["fundingOrganization"] = [{"id": funder_id(call), "name": call.organiser}]
    places = list(proposal.places.all())
    if places:
        record["beneficiaryLocation"] = [{"name": r.name, "countryCode": COUNTRY, "geoCode": r.code} for r in places]
    record["grantProgramme"] = [{"code": str(call.pk), "title": call.title}]
    record["dateModified"] = _stamp(proposal.updated_at)
    return record


def grants_package(queryset: QuerySet | None = None, *, progress=None) -> dict:
    """The 360Giving data package of the awarded grants (`queryset`: awarded_proposals() by default)."""
    qs = awarded_proposals() if queryset is None else queryset
    grants = []
    for proposal in qs.iterator(chunk_size=2000):
        grants.append(grant_record(proposal))
        if progress:
            progress(len(grants))
    package = {
        "title": f"{settings.WAGTAIL_SITE_NAME}·公益创投立项项目",
        "description": "已批复立项的公益创投项目：项目、资助金额、批复日期、实施期限、申报组织、主办单位、实施地点和所属征集。",
        "publisher": {"name": str(settings.WAGTAIL_SITE_NAME)},
        "grants": grants,
    }
    if grants:
        package["modified"] = max(g["dateModified"] for g in grants)
    return package


def summary() -> dict:
    """What /opendata/ tells in figures: how many grants, how much, the latest change. One query."""
    row = Proposal.objects.filter(status__in=AWARDED_STATES).aggregate(
        count=Count("pk"), total=Sum("awarded_amount"), modified=Max("updated_at")
    )
    return {"count": row["count"], "total": row["total"] or Decimal("0.00"), "modified": row["modified"]}


# ---- files -------------------------------------------------------------------------------------


def package_json(package: dict) -> bytes:
    return json.dumps(package, ensure_ascii=False, indent=1).encode("utf-8")


def location_count(package: dict) -> int:
    return max((len(g.get("beneficiaryLocation", [])) for g in package["grants"]), default=0) or 1


def csv_headers(locations: int = 1) -> list[str]:
    """The standard's column titles, the beneficiary locations numbered from 0."""
    head = [
        "Identifier",
        "Title",
        "Description",
        "Currency",
        "Amount Awarded",
        "Award Date",
        "Planned Dates:Start Date",
        "Planned Dates:End Date",
        "Recipient Org:Identifier",
        "Recipient Org:Name",
        "Funding Org:Identifier",
        "Funding Org:Name",
        "Grant Programme:Code",
        "Grant Programme:Title",
    ]
    for i in range(locations):
        head += [
            f"Beneficiary Location:{i}:Name",
            f"Beneficiary Location:{i}:Country Code",
            f"Beneficiary Location:{i}:Geographic Code",
        ]
    return [*head, "Last modified"]


def _safe(value):
    """Text a spreadsheet would take for a formula gets an apostrophe (the CSV only)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_row(grant: dict, locations: int) -> list:
    dates = (grant.get("plannedDates") or [{}])[0]
    recipient, funder = grant["recipientOrganization"][0], grant["fundingOrganization"][0]
    programme = (grant.get("grantProgramme") or [{}])[0]
    row = [
        grant["id"],
        grant["title"],
        grant["description"],
        grant["currency"],
        grant["amountAwarded"],
        grant["awardDate"],
        dates.get("startDate", ""),
        dates.get("endDate", ""),
        recipient["id"],
        recipient["name"],
        funder["id"],
        funder["name"],
        programme.get("code", ""),
        programme.get("title", ""),
    ]
    places = grant.get("beneficiaryLocation", [])
    for i in range(locations):
        place = places[i] if i < len(places) else {}
        row += [place.get("name", ""), place.get("countryCode", ""), place.get("geoCode", "")]
    row.append(grant.get("dateModified", ""))
    return [_safe(v) for v in row]


def package_csv(package: dict) -> bytes:
    locations = location_count(package)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_headers(locations))
    for grant in package["grants"]:
        writer.writerow(csv_row(grant, locations))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


FORMATS = {".json": package_json, ".csv": package_csv}


# ---- validation against the standard's schema ----------------------------------------------------


@functools.cache
def schemas() -> tuple[dict, dict]:
    """(package schema, grant schema) as shipped in grants/schemas/."""
    package = json.loads((SCHEMA_DIR / "360-giving-package-schema.json").read_text("utf-8"))
    grant = json.loads((SCHEMA_DIR / "360-giving-schema.json").read_text("utf-8"))
    return package, grant


_DATE_TIME = re.compile(
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$"
)


def format_checker():
    """The formats the standard's schema names, checked (jsonschema checks date-time only with an
    extra package; its oneOf between date-time and a date pattern needs the check to tell them apart)."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())

    @checker.checks("date-time")
    def date_time(value):
        if not isinstance(value, str):
            return True
        if not _DATE_TIME.match(value):
            return False
        try:
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return False
        return True

    @checker.checks("uri")
    def uri(value):
        if not isinstance(value, str):
            return True
        parts = urlparse(value)
        return bool(parts.scheme and (parts.netloc or parts.path))

    return checker


def validators():
    """(package validator, grant validator): Draft 4, the package's remote $ref to the grant schema
    resolved to our copy (no network)."""
    from jsonschema import Draft4Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT4

    package_schema, grant_schema = schemas()
    registry = Registry().with_resource(GRANT_SCHEMA_URI, Resource(contents=grant_schema, specification=DRAFT4))
    checker = format_checker()
    return (
        Draft4Validator(package_schema, registry=registry, format_checker=checker),
        Draft4Validator(grant_schema, format_checker=checker),
    )


def package_errors(package: dict, *, limit: int = 20) -> list[str]:
    """The first `limit` problems of `package` against the standard, each "where: what".

    The package schema checks the metadata and one grant; every grant is then checked against the
    grant schema, and identifiers for uniqueness, one by one (the schema's uniqueItems compares
    every pair of grants: hours for ten thousand)."""
    package_validator, grant_validator = validators()
    problems = []
    head = {**package, "grants": package["grants"][:1]}
    for e in package_validator.iter_errors(head):
        problems.append(f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}")
    seen = set()
    for i, grant in enumerate(package["grants"][1:], start=1):
        for e in grant_validator.iter_errors(grant):
            problems.append(f"/grants/{i}/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}")
        if len(problems) >= limit:
            break
    for i, grant in enumerate(package["grants"]):
        if grant.get("id") in seen:
            problems.append(f"/grants/{i}/id: duplicate identifier {grant.get('id')}")
        seen.add(grant.get("id"))
    return problems[:limit]


def validate_package(package: dict) -> None:
    """Raise ValueError listing the problems when `package` breaks the 360Giving schema."""
    problems = package_errors(package)
    if problems:
        raise ValueError("不符合 360Giving 数据标准：" + "；".join(problems))
