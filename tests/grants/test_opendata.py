"""Open data in the 360Giving Data Standard (grants.opendata, /opendata/, export_grants): the JSON
package validates against the standard's own schema (shipped in grants/schemas/), only awarded
grants appear, nothing private, recipient ids from the USCC with org-id.guide's CN-USCI prefix,
the standard's CSV column titles, public cached files, the command for .json and .csv and a
clear error for any other suffix.

The awarded grants come from one `approved_call` for the module (through the real services:
review, 公示, approval; ~20 s), rolled back after it: three proposals, the third scored below the
call's minimum and so not funded. One approved project is then moved on to 实施中 by writing its
status (the funding services are built beside this), to show the funded states are published."""

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from grants import opendata
from grants.models import ExpertProfile, Proposal, ProposalStatus
from orgs.models import Organisation
from tests.grants.factories import approved_call

P = ProposalStatus
pytestmark = pytest.mark.django_db
JSON_URL, CSV_URL, PAGE_URL = "/opendata/grants.json", "/opendata/grants.csv", "/opendata/"
PRIVATE = {
    "phone": "13912345678",
    "bank account": "6222020200112233445",
    "bank": "中国工商银行鄂州分行",
    "legal representative": "李保密",
    "contact": "王联系人",
    "e-mail": "secret-org@example.org",
    "review comment": "项目设计合理，同意资助。",
}


@pytest.fixture(scope="module")
def awarded(django_db_setup, django_db_blocker):
    """One decided call (凤凰街道): two approved proposals, one not funded; rolled back after the module."""
    with django_db_blocker.unblock(), transaction.atomic():
        call, items, manager = approved_call(3, 3, totals=(85, 80, 40))
        approved = [p for p in items if p.status == P.APPROVED]
        declined = [p for p in items if p.status == P.NOT_FUNDED]
        assert len(approved) == 2 and len(declined) == 1
        Organisation.objects.filter(pk__in=[p.organisation_id for p in items]).update(
            contact_phone=PRIVATE["phone"],
            bank_account=PRIVATE["bank account"],
            bank_name=PRIVATE["bank"],
            legal_representative=PRIVATE["legal representative"],
            contact_name=PRIVATE["contact"],
            email=PRIVATE["e-mail"],
        )
        Proposal.objects.filter(pk=approved[1].pk).update(status=P.IN_PROGRESS)
        reviewers = list(
            ExpertProfile.objects.filter(assignments__round__call=call).values_list("user__name", flat=True).distinct()
        )
        yield {
            "call": call,
            "approved": [Proposal.objects.get(pk=p.pk) for p in approved],
            "declined": declined[0],
            "manager": manager,
            "reviewers": reviewers,
        }
        transaction.set_rollback(True)


def _json(client) -> dict:
    response = client.get(JSON_URL)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content.decode("utf-8"))


def _csv(client) -> tuple[list[str], list[dict]]:
    response = client.get(CSV_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())  # Excel and WPS read it as UTF-8
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return rows[0], [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def _declared(schema: dict, definition: str | None = None) -> set[str]:
    node = schema["definitions"][definition] if definition else schema
    return set(node["properties"])


def test_the_json_package_validates_against_the_standards_schema(client, awarded):
    package = _json(client)
    package_validator, grant_validator = opendata.validators()
    package_validator.validate(package)  # the whole package at once, the standard's schema unchanged
    assert opendata.package_errors(package) == []

    # the schema allows any extra field: every field we write must be one it declares (no typo passes)
    _, grant_schema = opendata.schemas()
    for grant in package["grants"]:
        assert set(grant) <= _declared(grant_schema), set(grant) - _declared(grant_schema)
        for key, definition in [
            ("recipientOrganization", "Organization"),
            ("fundingOrganization", "Organization"),
            ("beneficiaryLocation", "Location"),
            ("plannedDates", "Event"),
            ("grantProgramme", "GrantProgramme"),
        ]:
            for item in grant[key]:
                assert set(item) <= _declared(grant_schema, definition), (key, item)


def test_the_validator_catches_what_breaks_the_standard(client, awarded):
    package = _json(client)
    broken = json.loads(json.dumps(package))
    broken["grants"][0]["amountAwarded"] = "60,000元"
    broken["grants"][0]["awardDate"] = "2026年5月1日"
    del broken["grants"][0]["recipientOrganization"][0]["id"]
    broken["grants"].append(dict(package["grants"][0]))  # the same id twice
    problems = opendata.package_errors(broken)
    text = "\n".join(problems)
    assert "amountAwarded" in text and "awardDate" in text and "'id' is a required property" in text
    assert "duplicate identifier" in text
    with pytest.raises(ValueError, match="不符合 360Giving 数据标准"):
        opendata.validate_package(broken)


def test_only_awarded_grants_appear(client, awarded):
    package = _json(client)
    ids = {g["id"] for g in package["grants"]}
    expected = {f"360G-gongyi-{p.number}" for p in awarded["approved"]}
    assert ids == expected  # approved and in progress: both published
    assert not any(awarded["declined"].number in i for i in ids)
    assert awarded["declined"].title not in json.dumps(package, ensure_ascii=False)
    _, rows = _csv(client)
    assert {r["Identifier"] for r in rows} == expected


def test_a_grant_record_holds_the_standards_fields_from_our_data(client, awarded):
    package = _json(client)
    assert package["publisher"]["name"] and package["modified"]
    p = awarded["approved"][0]
    call, org = awarded["call"], p.organisation
    (grant,) = [g for g in package["grants"] if g["id"] == f"360G-gongyi-{p.number}"]
    assert grant["title"] == p.title and grant["description"] == p.summary
    assert grant["currency"] == "CNY"
    assert grant["amountAwarded"] == 60000 and Decimal(str(grant["amountAwarded"])) == p.awarded_amount
    assert grant["awardDate"] == timezone.localdate(p.decided_at).isoformat()
    assert grant["plannedDates"] == [
        {"startDate": p.start_month.isoformat(), "endDate": call.implement_until.isoformat()}
    ]  # the first day of the start month to the last day of the end month
    assert grant["recipientOrganization"] == [{"id": f"CN-USCI-{org.uscc}", "name": org.name}]
    (funder,) = grant["fundingOrganization"]
    assert funder["name"] == call.organiser == "凤凰街道民政办"
    assert funder["id"].startswith(f"360G-gongyi-FUNDER-{call.region.code}-") and len(funder["id"].split("-")[-1]) == 8
    assert grant["beneficiaryLocation"] == [
        {"name": r.name, "countryCode": "CN", "geoCode": r.code} for r in p.places.order_by("path")
    ]
    assert grant["grantProgramme"] == [{"code": str(call.pk), "title": call.title}]
    # the other grant of the same call: the same funder and programme
    other = next(g for g in package["grants"] if g is not grant)
    assert other["fundingOrganization"] == grant["fundingOrganization"]


def test_no_private_data_in_either_file(client, awarded):
    text = json.dumps(_json(client), ensure_ascii=False) + client.get(CSV_URL).content.decode("utf-8-sig")
    for what, value in PRIVATE.items():
        assert value not in text, what
    assert awarded["reviewers"] and not any(name in text for name in awarded["reviewers"])
    assert awarded["manager"].name not in text
    for p in awarded["approved"]:
        assert p.organisation.address not in text


def test_the_csv_has_the_standards_column_titles(client, awarded):
    headers, rows = _csv(client)
    assert headers[:6] == ["Identifier", "Title", "Description", "Currency", "Amount Awarded", "Award Date"]
    for title in (
        "Planned Dates:Start Date",
        "Planned Dates:End Date",
        "Recipient Org:Identifier",
        "Recipient Org:Name",
        "Funding Org:Identifier",
        "Funding Org:Name",
        "Grant Programme:Code",
        "Grant Programme:Title",
        "Beneficiary Location:0:Name",
        "Beneficiary Location:0:Country Code",
        "Beneficiary Location:0:Geographic Code",
        "Last modified",
    ):
        assert title in headers
    assert headers == opendata.csv_headers(1)
    p = awarded["approved"][0]
    (row,) = [r for r in rows if r["Identifier"] == f"360G-gongyi-{p.number}"]
    assert row["Amount Awarded"] == "60000" and row["Currency"] == "CNY"
    assert row["Recipient Org:Identifier"] == f"CN-USCI-{p.organisation.uscc}"
    assert row["Beneficiary Location:0:Geographic Code"] == p.places.get().code


def test_several_places_get_numbered_columns_and_a_formula_stays_text_in_the_csv(client, awarded, regions):
    p = awarded["approved"][0]
    p.places.add(regions["fenghuang_c"])
    Proposal.objects.filter(pk=p.pk).update(title='=HYPERLINK("http://evil.example","点我")')
    headers, rows = _csv(client)
    assert "Beneficiary Location:1:Name" in headers and headers == opendata.csv_headers(2)
    (row,) = [r for r in rows if r["Identifier"] == f"360G-gongyi-{p.number}"]
    assert row["Title"] == '\'=HYPERLINK("http://evil.example","点我")'  # a spreadsheet will not run it
    assert (row["Beneficiary Location:0:Name"], row["Beneficiary Location:1:Name"]) == ("凤凰街道", "凤凰社区")
    grant = next(g for g in _json(client)["grants"] if g["id"].endswith(p.number))
    assert grant["title"] == '=HYPERLINK("http://evil.example","点我")'  # the JSON holds the text exactly
    assert len(grant["beneficiaryLocation"]) == 2


def test_the_files_are_public_and_cacheable(client, awarded):
    first = client.get(JSON_URL)  # anonymous: no login asked
    assert first.status_code == 200
    assert first["Cache-Control"] == "public, max-age=3600" and first["ETag"] and first["Last-Modified"]
    assert first["Access-Control-Allow-Origin"] == "*"
    assert "Cookie" not in first.get("Vary", "") and not first.cookies
    again = client.get(JSON_URL, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304 and not again.content
    assert client.head(CSV_URL).status_code == 200
    assert client.post(JSON_URL).status_code == 405

    # a change to an awarded grant shows at once (the cache key follows the grants)
    Proposal.objects.filter(pk=awarded["approved"][0].pk).update(title="新的项目名称", updated_at=timezone.now())
    changed = client.get(JSON_URL, headers={"if-none-match": first["ETag"]})
    assert changed.status_code == 200 and "新的项目名称" in changed.content.decode("utf-8")


def test_the_opendata_page_explains_the_data_and_links_both_files(client, awarded):
    response = client.get(PAGE_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("grants_public:opendata_json") == JSON_URL and reverse("grants_public:opendata_csv") == CSV_URL
    assert f'href="{JSON_URL}"' in html and f'href="{CSV_URL}"' in html
    assert "360Giving" in html and "CN-USCI" in html and "不含联系电话、银行账号" in html
    assert "已立项项目 <strong>2</strong> 个" in html and "¥120,000.00" in html


def test_the_needs_pages_keep_their_urls(client, regions):
    assert reverse("grants_public:needs") == "/needs/" and reverse("grants_public:need", args=[3]) == "/needs/3/"
    assert client.get("/needs/").status_code == 200


def test_the_command_writes_json_and_csv(awarded, tmp_path, client):
    out = io.StringIO()
    call_command("export_grants", "--format", "360giving", "--output", str(tmp_path / "grants.json"), stdout=out)
    assert "已按 360Giving 数据标准导出 2 个立项项目" in out.getvalue()
    written = json.loads((tmp_path / "grants.json").read_text("utf-8"))
    assert written == _json(client)
    opendata.validators()[0].validate(written)

    call_command("export_grants", "--output", str(tmp_path / "grants.CSV"), stdout=io.StringIO())
    rows = list(csv.reader(io.StringIO((tmp_path / "grants.CSV").read_text("utf-8-sig"))))
    assert rows[0][:5] == ["Identifier", "Title", "Description", "Currency", "Amount Awarded"] and len(rows) == 3


def test_the_command_refuses_another_suffix_or_format(awarded, tmp_path):
    for name in ("grants.xlsx", "grants"):
        with pytest.raises(CommandError, match=r"须以 \.json 或 \.csv 结尾"):
            call_command("export_grants", "--format", "360giving", "--output", str(tmp_path / name))
        assert not (tmp_path / name).exists()
    with pytest.raises(CommandError, match="目录不存在"):
        call_command("export_grants", "--output", str(tmp_path / "missing" / "grants.json"))
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("export_grants", "--format", "iati", "--output", str(tmp_path / "grants.json"))
