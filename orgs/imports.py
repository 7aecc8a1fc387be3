"""Bulk import of the social-organisation registry from Excel (.xlsx).

Rules (also printed on the template's 填写说明 sheet):

* One row per organisation, headers in Chinese (see COLUMNS). Unknown columns are ignored,
  so an export of the registry can be imported back.
* Matching: by 统一社会信用代码; a 备案 group without one by 备案编号; a 筹备 group with
  neither by exact 名称 + 所属区域. A match is updated, anything else is created.
* Updates never erase: an empty cell keeps what the registry already holds. A row that
  would change nothing is counted as 未变化 and not written (its 更新时间 stays).
* Status policy: the importer is 民政 staff loading organisations that the 登记管理机关
  (or, for 备案 groups, the street office) has already registered. New 社会团体, 民办非企业
  单位, 基金会 and 备案 groups therefore enter as 已认证 along the normal path (submit, then
  verify), recorded in the audit log as two history rows by the importing user with the
  reason "批量导入（登记管理机关数据）": the history shows who verified them and why, like
  any other verification. The state machine itself is asked whether draft → submitted →
  verified is allowed (transitions and conditions, `import_path_problems`). On the fast
  path those two rows are bulk-inserted by core.workflow.log_bulk, identical to what
  run_transition writes (a test compares them): per-row run_transition costs 8 round trips per
  organisation, 134 s for 10,000 rows on a busy PostgreSQL. The row-by-row retry uses
  run_transition itself. New 筹备 groups have no official record and enter as 草稿.
  Existing organisations keep their status: import updates their data (official data
  wins, legal fields included) but never moves them through the workflow.
* A row is rejected, with its row number and every reason in Chinese, when any value is
  invalid, when it repeats an organisation already in the file, or when its region (or
  the matched organisation's current region) is outside the importer's scope. Rejected
  rows never stop the others.
* Writing is done in chunks, one transaction each (bulk inserts, through-model inserts
  for 服务领域). If a chunk fails at the database (someone saved the same code at the same
  moment), it is rolled back and redone row by row, each row in its own transaction, so
  one bad row never loses or half-writes another.

* Reading is bounded (core.excel.read_table): at most MAX_ROWS data rows, rows counted as
  read (blank ones too, never the sheet's declared size), and READ_SECONDS.

Entry points: `import_organisations(file, user=…)` (used by the job runner `import_job`,
the admin upload screen and `manage.py import_orgs`) and `template_workbook(user)`.
"""

import copy
import datetime
import logging
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation

from accounts.models import Region
from accounts.selectors import user_scope_region
from accounts.validators import normalise_mobile, validate_mobile
from core.errors import UserError
from core.excel import (
    CellError,
    ImportFileError,
    append,
    digits,
    norm_label,
    parse_date,
    parse_money,
    put,
    read_table,
    rejected_rows_workbook,
    workbook_bytes,
)
from core.excel import text as cell_text
from core.jobs import JobError, JobOutcome, job_progress, job_runner
from core.workflow import CREATED, log_bulk, log_created, run_transition, transition_label

from .models import REGISTERED_TYPES, Organisation, OrganisationStatus, OrgType, ServiceArea
from .validators import normalise_bank_account, normalise_uscc, validate_bank_account, validate_uscc

logger = logging.getLogger(__name__)

IMPORT_REASON = "批量导入（登记管理机关数据）"
IMPORT_PERMISSION = "orgs.import_organisation"
MAX_ROWS = 50_000
READ_SECONDS = 120  # reading a file longer than this fails it (a sheet of millions of blank rows)
CHUNK = 500
EXAMPLE_PREFIX = "【示例】"
VERIFIED_ON_IMPORT = REGISTERED_TYPES | {OrgType.COMMUNITY_FILED}


@dataclass(frozen=True)
class Column:
    key: str  # Organisation field (or "region" / "service_areas")
    header: str
    required: bool = False
    help: str = ""
    example: object = ""
    width: int = 16


COLUMNS: list[Column] = [
    Column("name", "名称", True, "组织全称，与登记证书一致。", "鄂州市凤凰街道老宝贝社会工作服务中心", 36),
    Column("org_type", "类型", True, "", "民办非企业单位（社会服务机构）", 28),
    Column(
        "uscc",
        "统一社会信用代码",
        False,
        "18位。社会团体、民办非企业单位、基金会必填；筹备中的组织不填。",
        "",
        22,
    ),
    Column("filing_number", "备案编号", False, "备案的社区社会组织必填。", "", 16),
    Column("sponsor_name", "挂靠单位", False, "备案的社区社会组织必填：挂靠或指导的街道、社区或已登记组织。", "", 20),
    Column("registration_authority", "登记管理机关", False, "如：鄂州市民政局。", "鄂州市民政局", 16),
    Column("supervisory_unit", "业务主管单位", False, "", "", 16),
    Column("legal_representative", "法定代表人/负责人", True, "", "黄丽萍", 14),
    Column("founded_on", "成立日期", False, "日期格式，如 2018-05-01、2018/5/1 或 2018年5月1日。", None, 12),
    Column("registered_capital", "注册资金", False, "单位：元，最多两位小数，如 30000 或 3万。", 30000, 12),
    Column("address", "住所", True, "", "湖北省鄂州市凤凰街道滨湖南路1号", 30),
    Column(
        "region",
        "所属区域",
        True,
        "街道、镇或社区名称（如 凤凰街道），或完整的行政区划代码（9位或12位）；见“区域代码”表。",
        "",
        16,
    ),
    Column("service_areas", "服务领域", False, "可填多个，用“、”或“,”分隔；名称见下方列表。", "", 24),
    Column("contact_name", "联系人", True, "", "黄丽萍", 10),
    Column("contact_phone", "联系电话", True, "11位手机号码。", "13700000001", 14),
    Column("email", "电子邮箱", False, "", "laobaobei@example.org", 22),
    Column("bank_name", "开户银行", False, "", "湖北银行鄂州分行", 18),
    Column("bank_account_name", "账户名称", False, "一般与组织名称一致。", "", 24),
    Column(
        "bank_account",
        "银行账号",
        False,
        "8–30位数字。请把单元格设为“文本”格式，否则 Excel 会截断超过15位的数字。",
        "6221000188123456789",
        24,
    ),
    Column("introduction", "简介", False, "", "为凤凰街道高龄、独居老人提供助餐、探访和陪伴服务。", 40),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
REQUIRED_KEYS = [c.key for c in COLUMNS if c.required]
# Organisation fields copied as plain text.
TEXT_FIELDS = [
    "name",
    "filing_number",
    "sponsor_name",
    "registration_authority",
    "supervisory_unit",
    "legal_representative",
    "address",
    "contact_name",
    "email",
    "bank_name",
    "bank_account_name",
    "introduction",
]
# The Organisation fields an import may write (service areas aside).
WRITABLE_FIELDS = [
    *TEXT_FIELDS,
    "org_type",
    "uscc",
    "founded_on",
    "registered_capital",
    "contact_phone",
    "bank_account",
    "region",
]
# Fields whose database validation needs a query: checked here against preloaded data.
CLEAN_EXCLUDE = ["region", "sponsor", "created_by", "logo"]

HEADER_ALIASES = {
    "组织名称": "name",
    "社会组织名称": "name",
    "组织类型": "org_type",
    "信用代码": "uscc",
    "法定代表人": "legal_representative",
    "负责人": "legal_representative",
    "注册资金（元）": "registered_capital",
    "注册资本": "registered_capital",
    "地址": "address",
    "区域": "region",
    "所属区域代码": "region",
    "手机": "contact_phone",
    "手机号": "contact_phone",
    "联系人手机": "contact_phone",
    "邮箱": "email",
    "挂靠/指导单位": "sponsor_name",
    "银行账户": "bank_account",
}

TYPE_ALIASES = {
    **{label: value for value, label in OrgType.choices},
    **{value: value for value in OrgType.values},
    "社团": OrgType.SOCIAL_GROUP,
    "民办非企业单位": OrgType.SERVICE_ORG,
    "社会服务机构": OrgType.SERVICE_ORG,
    "民非": OrgType.SERVICE_ORG,
    "社区社会组织": OrgType.COMMUNITY_FILED,
    "备案": OrgType.COMMUNITY_FILED,
    "备案社区社会组织": OrgType.COMMUNITY_FILED,
    "筹备": OrgType.PREPARING,
}


TYPE_LOOKUP = {norm_label(k): v for k, v in TYPE_ALIASES.items()}


@dataclass
class RejectedRow:
    row: int
    values: tuple
    reasons: list[str]

    @property
    def reason(self) -> str:
        return "；".join(self.reasons)


@dataclass
class ImportResult:
    headers: list[str] = field(default_factory=list)
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_examples: int = 0
    verified: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    @property
    def counts(self) -> dict:
        return {
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
            "skipped_examples": self.skipped_examples,
            "verified": self.verified,
        }

    def summary_text(self) -> str:
        text = (
            f"共 {self.total} 行：新增 {self.created} 个，更新 {self.updated} 个，"
            f"未变化 {self.unchanged} 个，未通过校验 {len(self.rejected)} 行。"
        )
        if self.skipped_examples:
            text += f"已跳过 {self.skipped_examples} 行示例数据。"
        return text

    def summary_pairs(self) -> list[list]:
        pairs = [
            ["数据行数", self.total],
            ["新增", self.created],
            ["其中直接认证", self.verified],
            ["更新", self.updated],
            ["未变化", self.unchanged],
            ["未通过校验", len(self.rejected)],
        ]
        if self.skipped_examples:
            pairs.append(["跳过的示例行", self.skipped_examples])
        return pairs

    def rejected_workbook(self) -> bytes:
        """The rejected rows with their original columns, 原行号 and 错误原因."""
        return rejected_rows_workbook(self.headers, self.rejected)


SPLIT_RE = re.compile(r"[、,，;；/|\n]+")


# ---- lookups preloaded once per import ------------------------------------------------------


class Lookups:
    """Regions, service areas and the user's scope, loaded once: validating a row costs no query."""

    def __init__(self, user):
        regions = list(Region.objects.all().only("id", "path", "depth", "code", "name", "level"))
        self.regions_by_id = {r.pk: r for r in regions}
        self.by_code = {r.code: r for r in regions}
        by_path = {r.path: r for r in regions}
        self.by_name: dict[str, list[Region]] = defaultdict(list)
        self.by_full_name: dict[str, list[Region]] = defaultdict(list)
        self.full_names: dict[int, str] = {}
        step = Region.steplen
        for r in regions:
            self.by_name[r.name].append(r)
            full = "".join(
                by_path[r.path[: i * step]].name for i in range(1, r.depth + 1) if r.path[: i * step] in by_path
            )
            self.full_names[r.pk] = full
            self.by_full_name[full].append(r)
        self.areas_by_name = {}
        self.area_names = []
        for a in ServiceArea.objects.order_by("sort_order", "pk"):
            self.areas_by_name[a.name] = a
            self.area_names.append(a.name)
        for a in ServiceArea.objects.all():
            self.areas_by_name.setdefault(a.code, a)
        self.unrestricted = user is None or (getattr(user, "is_superuser", False) and user.is_active)
        self.scope_region = None if self.unrestricted else user_scope_region(user)

    def in_scope(self, region: Region | None) -> bool:
        if self.unrestricted:
            return True
        return region is not None and self.scope_region is not None and region.path.startswith(self.scope_region.path)

    def out_of_scope_message(self, region: Region) -> str:
        if self.scope_region is None:
            return "您的账号未设置负责区域，不能导入组织，请联系管理员。"
        mine = self.full_names.get(self.scope_region.pk, self.scope_region.name)
        return f"所属区域“{self.full_names[region.pk]}”不在您的管辖范围（{mine}）内。"

    def region(self, raw) -> Region:
        text = re.sub(r"\s+", "", cell_text(raw))
        if text.isdigit():
            region = self.by_code.get(text)
            if region is None:
                raise CellError(f"所属区域代码“{text}”不存在，请核对行政区划代码。")
            return region
        candidates = self.by_name.get(text) or self.by_full_name.get(text) or []
        if not candidates:
            raise CellError(f"所属区域“{text}”不存在，请填写系统中的街道、镇、社区名称或行政区划代码。")
        if len(candidates) > 1:
            in_scope = [r for r in candidates if self.in_scope(r)]
            if len(in_scope) == 1:
                return in_scope[0]
            options = "、".join(f"{self.full_names[r.pk]}（{r.code}）" for r in candidates[:5])
            raise CellError(f"所属区域名称“{text}”对应多个区域：{options}，请改填行政区划代码。")
        return candidates[0]

    def service_areas(self, raw) -> list[ServiceArea]:
        # Some names contain "、" themselves ("中心工作（文明创建、治水、环保等）"): take the
        # known names out first, longest first, then split what is left.
        text = norm_label(cell_text(raw))
        hits = []
        for name in sorted(self.area_names, key=len, reverse=True):
            pos = text.find(norm_label(name))
            if pos >= 0:
                hits.append((pos, name))
                text = text.replace(norm_label(name), "、")
        found = [self.areas_by_name[name] for _, name in sorted(hits)]
        unknown = []
        for n in (n.strip() for n in SPLIT_RE.split(text)):
            if not n:
                continue
            area = self.areas_by_name.get(n) or self.areas_by_name.get(n + "服务")
            if area is None:
                unknown.append(n)
            elif area not in found:
                found.append(area)
        if unknown:
            raise CellError(f"服务领域“{'、'.join(unknown)}”不存在（可选：{'、'.join(self.area_names)}）。")
        return found


def parse_type(raw) -> str:
    text = norm_label(cell_text(raw))
    value = TYPE_LOOKUP.get(text)
    if value is None:
        options = "、".join(label for _, label in OrgType.choices)
        raise CellError(f"类型“{cell_text(raw)}”无法识别，请填写：{options}。")
    return value


# ---- reading the workbook -------------------------------------------------------------------


def _header_key(text) -> str | None:
    t = norm_label(cell_text(text)).lstrip("*＊").rstrip("*＊")
    for c in COLUMNS:
        if t == norm_label(c.header):
            return c.key
    if t in HEADER_ALIASES:
        return HEADER_ALIASES[t]
    t2 = re.sub(r"（[^）]*）$", "", t)  # "注册资金（元）" → "注册资金"
    for c in COLUMNS:
        if t2 == norm_label(c.header):
            return c.key
    return None


def read_rows(file) -> tuple[list[str], dict[str, int], list[tuple[int, tuple]]]:
    """(original headers, column key → index, [(excel row number, values)]) of the first
    sheet that has a 名称 header. Raises ImportFileError in Chinese (also when the file
    has more rows than MAX_ROWS allows, blank ones counted, or takes over READ_SECONDS)."""
    table = read_table(
        file,
        header_key=_header_key,
        required={k: COLUMN_BY_KEY[k].header for k in REQUIRED_KEYS},
        max_rows=MAX_ROWS,
        seconds=READ_SECONDS,
        prefer_sheet="社会组织",
    )
    return table.headers, table.mapping, table.rows


# ---- the import itself --------------------------------------------------------------------------


@dataclass
class RowPlan:
    row: int
    values: tuple
    action: str  # "create" | "update" | "unchanged"
    org: Organisation  # the new instance, or the existing one with the new values applied
    area_ids: set | None  # None: keep the existing service areas
    verify: bool = False
    changed: list[str] = field(default_factory=list)
    areas_changed: bool = False
    fresh: Callable | None = None  # rebuilds `org` for a row-by-row retry


class Importer:
    def __init__(self, *, user, progress: Callable[[int, int], None] | None = None):
        self.user = user
        self.progress = progress or (lambda done, total: None)
        self.result = ImportResult()
        self.lookups = Lookups(user)
        self.now = timezone.now()
        self.seen: dict[tuple, int] = {}  # identity claim → first row using it
        self.matched: dict[int, int] = {}  # existing organisation pk → row matched to it

    # -- loading existing organisations for the identities in the file --
    def preload(self, rows, mapping):
        usccs, filings, names = set(), set(), set()

        def cell(values, key):
            i = mapping.get(key)
            return values[i] if i is not None and i < len(values) else None

        for _, values in rows:
            u = normalise_uscc(cell_text(cell(values, "uscc")))
            if u:
                usccs.add(u)
            f = cell_text(cell(values, "filing_number"))
            if f:
                filings.add(f)
            n = cell_text(cell(values, "name"))
            if n:
                names.add(n)
        self.by_uscc: dict[str, Organisation] = {}
        self.by_filing: dict[str, list[Organisation]] = defaultdict(list)
        self.by_name_region: dict[tuple, list[Organisation]] = defaultdict(list)
        found: dict[int, Organisation] = {}
        for lookup, keys in (("uscc__in", usccs), ("filing_number__in", filings), ("name__in", names)):
            keys = sorted(keys)
            for i in range(0, len(keys), 900):
                for org in Organisation.objects.filter(**{lookup: keys[i : i + 900]}):
                    found.setdefault(org.pk, org)
        for org in found.values():
            if org.uscc:
                self.by_uscc[org.uscc] = org
            if org.filing_number:
                self.by_filing[org.filing_number].append(org)
            self.by_name_region[(org.name, org.region_id)].append(org)
        self.existing_areas: dict[int, set] = defaultdict(set)
        through = Organisation.service_areas.through
        ids = sorted(found)
        for i in range(0, len(ids), 900):
            for org_id, area_id in through.objects.filter(organisation_id__in=ids[i : i + 900]).values_list(
                "organisation_id", "servicearea_id"
            ):
                self.existing_areas[org_id].add(area_id)

    # -- one row --
    def plan_row(self, row_no: int, values: tuple, mapping: dict) -> RowPlan | None:
        def cell(key):
            i = mapping.get(key)
            return values[i] if i is not None and i < len(values) else None

        errors: list[str] = []
        data: dict = {}
        name = cell_text(cell("name"))
        if name.startswith(EXAMPLE_PREFIX):
            self.result.skipped_examples += 1
            return None
        for key in REQUIRED_KEYS:
            if not cell_text(cell(key)):
                errors.append(f"“{COLUMN_BY_KEY[key].header}”为必填项，不能为空。")
        for key in TEXT_FIELDS:
            text = cell_text(cell(key))
            if text:
                data[key] = text
        org_type = region = None
        areas = None

        def attempt(func, *args):
            try:
                return func(*args)
            except CellError as e:
                errors.append(str(e))
            except ValidationError as e:
                errors.extend(e.messages)
            return None

        if cell_text(cell("org_type")):
            org_type = attempt(parse_type, cell("org_type"))
            if org_type:
                data["org_type"] = org_type
        uscc_raw = cell("uscc")
        if isinstance(uscc_raw, float) and abs(uscc_raw) >= 1e15:
            errors.append(
                "统一社会信用代码请以文本格式填写（Excel 会把18位数字的末几位变成0），请将该列设为“文本”后重新输入。"
            )
            uscc_raw = None
        uscc = normalise_uscc(cell_text(uscc_raw))
        if uscc and attempt(validate_uscc, uscc):
            data["uscc"] = uscc
        if cell_text(cell("region")):
            region = attempt(self.lookups.region, cell("region"))
            if region is not None:
                data["region_id"] = region.pk
                if not self.lookups.in_scope(region):
                    errors.append(self.lookups.out_of_scope_message(region))
        if cell_text(cell("service_areas")):
            found = attempt(self.lookups.service_areas, cell("service_areas"))
            if found is not None:
                areas = {a.pk for a in found}
        founded = attempt(parse_date, cell("founded_on"), "成立日期")
        if founded:
            data["founded_on"] = founded
        capital = attempt(parse_money, cell("registered_capital"), "注册资金")
        if capital is not None:
            data["registered_capital"] = capital
        phone_raw = cell("contact_phone")
        if cell_text(phone_raw):
            phone = attempt(lambda v: normalise_mobile(digits(v, "联系电话")), phone_raw)
            if phone is not None:
                try:
                    validate_mobile(phone)
                    data["contact_phone"] = phone
                except ValidationError:
                    errors.append(f"联系电话“{cell_text(phone_raw)}”不是有效的11位手机号码。")
        bank_raw = cell("bank_account")
        if cell_text(bank_raw):
            account = attempt(lambda v: normalise_bank_account(digits(v, "银行账号")), bank_raw)
            if account is not None:
                try:
                    validate_bank_account(account)
                    data["bank_account"] = account
                except ValidationError as e:
                    errors.extend(e.messages)

        # -- identity: which organisation this row is, and whether the file repeats it --
        filing = data.get("filing_number", "")
        claims = []
        if uscc:
            claims.append((("uscc", uscc), f"统一社会信用代码 {uscc}"))
        if filing and (org_type == OrgType.COMMUNITY_FILED or not uscc):
            claims.append((("filing", filing), f"备案编号 {filing}"))
        if not uscc and not filing and name and region is not None:
            claims.append((("name", name, region.pk), f"名称“{name}”（同一区域）"))
        for claim, label in claims:
            first = self.seen.get(claim)
            if first is not None:
                errors.append(f"{label}与本文件第{first}行重复，同一组织只能出现一次。")
        for claim, _ in claims:
            self.seen.setdefault(claim, row_no)

        existing = None
        if not errors:
            existing, problem = self.match(uscc, filing, name, region, org_type)
            if problem:
                errors.append(problem)
            elif existing is not None:
                if existing.pk in self.matched:
                    errors.append(f"与本文件第{self.matched[existing.pk]}行对应的是同一个组织（{existing.name}）。")
                else:
                    self.matched[existing.pk] = row_no
                    current = self.lookups.regions_by_id.get(existing.region_id)
                    if not self.lookups.in_scope(current):
                        errors.append(
                            "该组织已登记在您管辖范围以外的区域，不能通过导入修改，请联系其所在区域的民政部门。"
                        )
        if errors:
            return self.reject(row_no, values, errors)

        if existing is None:
            plan = self.plan_create(row_no, values, data, areas)
        else:
            plan = self.plan_update(row_no, values, data, areas, existing)
        return plan

    def match(self, uscc, filing, name, region, org_type) -> tuple[Organisation | None, str]:
        if uscc and uscc in self.by_uscc:
            return self.by_uscc[uscc], ""
        if filing:
            candidates = self.by_filing.get(filing, [])
            if len(candidates) > 1:
                return None, f"备案编号 {filing} 在系统中对应多个组织，请联系管理员核对后再导入。"
            if candidates:
                org = candidates[0]
                if uscc and org.uscc and org.uscc != uscc:
                    return None, f"备案编号 {filing} 对应的组织“{org.name}”已有不同的统一社会信用代码 {org.uscc}。"
                return org, ""
        if not uscc and not filing and region is not None:
            candidates = self.by_name_region.get((name, region.pk), [])
            if len(candidates) > 1:
                return None, f"名称“{name}”在该区域对应多个组织，请补充统一社会信用代码或备案编号。"
            if candidates:
                return candidates[0], ""
        return None, ""

    def _clean(self, org: Organisation) -> list[str]:
        try:
            org.full_clean(exclude=CLEAN_EXCLUDE, validate_unique=False, validate_constraints=False)
        except ValidationError as e:
            return _messages(e)
        return []

    def plan_create(self, row_no, values, data, areas) -> RowPlan | None:
        verify = data.get("org_type") in VERIFIED_ON_IMPORT

        def build(bulk: bool = True):
            """bulk: born 已认证, its two audit rows written by _bulk_audit. Otherwise born
            草稿 and moved by run_transition (the row-by-row retry)."""
            extra = {}
            if verify:
                extra = {"submitted_at": self.now, "verified_at": self.now, "status_reason": IMPORT_REASON}
                if bulk:
                    extra["status"] = OrganisationStatus.VERIFIED  # protected: settable only at creation
            return Organisation(created_by=self.user if getattr(self.user, "pk", None) else None, **data, **extra)

        org = build()
        errors = self._clean(org)
        if verify and not errors:
            errors = import_path_problems(org)
        if errors:
            return self.reject(row_no, values, errors)
        return RowPlan(
            row=row_no,
            values=values,
            action="create",
            org=org,
            area_ids=areas or set(),
            verify=verify,
            fresh=build,
        )

    def plan_update(self, row_no, values, data, areas, existing: Organisation) -> RowPlan | None:
        def build(bulk: bool = True):
            org = copy.copy(existing)  # Model.__getstate__ copies _state and its caches
            for key, value in data.items():
                setattr(org, key, value)
            return org

        org = build()
        errors = self._clean(org)
        if errors:
            return self.reject(row_no, values, errors)
        fields = [f.attname for f in Organisation._meta.concrete_fields if f.name in WRITABLE_FIELDS]
        changed = [f for f in fields if getattr(org, f) != getattr(existing, f)]
        old_areas = self.existing_areas.get(existing.pk, set())
        areas_changed = areas is not None and areas != old_areas
        action = "update" if changed or areas_changed else "unchanged"
        if action == "update":
            org.updated_at = self.now
        return RowPlan(
            row=row_no,
            values=values,
            action=action,
            org=org,
            area_ids=areas,
            changed=changed,
            areas_changed=areas_changed,
            fresh=build,
        )

    def reject(self, row_no, values, errors) -> None:
        self.result.rejected.append(RejectedRow(row=row_no, values=values, reasons=list(dict.fromkeys(errors))))
        return None

    # -- writing --
    def write(self, plans: list[RowPlan]) -> None:
        work = [p for p in plans if p.action != "unchanged"]
        self.result.unchanged += len(plans) - len(work)
        if not work:
            return
        try:
            with transaction.atomic():
                self._write_many(work)
        except Exception:
            logger.info("import chunk failed, retrying row by row", exc_info=True)
            self._retry_one_by_one(work)
            return
        self._count(work)

    def _count(self, plans):
        for p in plans:
            if p.action == "create":
                self.result.created += 1
                self.result.verified += int(p.verify)
            elif p.action == "update":
                self.result.updated += 1

    def _write_many(self, plans: list[RowPlan], *, bulk: bool = True) -> None:
        through = Organisation.service_areas.through
        creates = [p for p in plans if p.action == "create"]
        updates = [p for p in plans if p.action == "update"]
        if creates:
            Organisation.objects.bulk_create([p.org for p in creates])
            through.objects.bulk_create(
                [through(organisation_id=p.org.pk, servicearea_id=a) for p in creates for a in sorted(p.area_ids)]
            )
            verified = [p.org for p in creates if p.verify]
            if bulk:
                self._bulk_audit([p.org for p in creates], verified)
            else:
                for p in creates:
                    log_created(p.org, by=self.user, reason=CREATED_REASON)
                for org in verified:
                    for name, _, _ in IMPORT_PATH:
                        run_transition(org, name, by=self.user, reason=IMPORT_REASON)
        if updates:
            fields = sorted({f for p in updates for f in p.changed} | {"updated_at"})
            Organisation.objects.bulk_update([p.org for p in updates], fields)
            area_updates = [p for p in updates if p.areas_changed]
            if area_updates:
                through.objects.filter(organisation_id__in=[p.org.pk for p in area_updates]).delete()
                through.objects.bulk_create(
                    [
                        through(organisation_id=p.org.pk, servicearea_id=a)
                        for p in area_updates
                        for a in sorted(p.area_ids)
                    ]
                )

    def _bulk_audit(self, created: list[Organisation], verified: list[Organisation]) -> None:
        """Every new organisation's first history row (its creation), and the rows
        run_transition would write for submit and verify, each set in one INSERT
        (core.workflow.log_bulk) instead of 8 round trips per organisation. Legality of the
        path was checked by import_path_problems()."""
        if created:
            log_bulk(
                Organisation, [o.pk for o in created], CREATED_STEP, by=self.user, reason=CREATED_REASON, at=self.now
            )
        if verified:
            log_bulk(
                Organisation, [o.pk for o in verified], IMPORT_PATH, by=self.user, reason=IMPORT_REASON, at=self.now
            )

    def _retry_one_by_one(self, plans: list[RowPlan]) -> None:
        from django.db import IntegrityError

        for p in plans:
            p.org = p.fresh(bulk=False)
            if p.action == "update":
                p.org.updated_at = self.now
            try:
                with transaction.atomic():
                    self._write_many([p], bulk=False)
            except IntegrityError:
                self.reject(
                    p.row,
                    p.values,
                    [
                        "保存时发现统一社会信用代码等唯一信息已被其他组织占用（可能有人同时录入），请核对后重新导入该行。"
                    ],
                )
            except UserError as e:  # a refusal with a message for the user (the state machine's …)
                self.reject(p.row, p.values, [e.message])
            except Exception:
                logger.exception("import row %s failed", p.row)
                self.reject(p.row, p.values, ["保存该行时出错，已记录错误详情，请联系系统管理员。"])
            else:
                self._count([p])

    def run(self, file) -> ImportResult:
        headers, mapping, rows = read_rows(file)
        self.result.headers = headers
        self.result.total = len(rows)
        self.progress(0, len(rows))
        self.preload(rows, mapping)
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            plans = [p for row_no, values in chunk if (p := self.plan_row(row_no, values, mapping)) is not None]
            self.write(plans)
            self.progress(start + len(chunk), len(rows))
        self.result.rejected.sort(key=lambda r: r.row)
        return self.result


CREATED_REASON = "批量导入创建"
CREATED_STEP = ((CREATED, OrganisationStatus.DRAFT, OrganisationStatus.DRAFT),)
IMPORT_PATH = (
    ("submit", OrganisationStatus.DRAFT, OrganisationStatus.SUBMITTED),
    ("verify", OrganisationStatus.SUBMITTED, OrganisationStatus.VERIFIED),
)


def import_path_problems(org: Organisation) -> list[str]:
    """May a new organisation go draft → submitted → verified? Asked of the state machine
    itself (transitions and their conditions), so a rule added to the FSM later also
    stops bulk verification."""
    for name, source, target in IMPORT_PATH:
        meta = getattr(Organisation, name)._django_fsm
        transition = meta.get_transition(source)
        if not (transition and transition.target == target and meta.conditions_met(org, source)):
            return [f"该组织不满足“{transition_label(org, name)}”的条件，不能直接认证，请逐个办理。"]
    return []


def _messages(error: ValidationError) -> list[str]:
    """full_clean's errors as '列名：消息' (the message alone when it already names the column)."""
    out = []
    for key, messages in error.message_dict.items():
        column = COLUMN_BY_KEY.get(key)
        label = column.header if column else ""
        for m in messages:
            out.append(f"{label}：{m}" if label and label not in m else m)
    return out


def can_import(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.has_perm(IMPORT_PERMISSION))


def import_organisations(file, *, user=None, progress=None) -> ImportResult:
    """Import an .xlsx (path or binary file object). `user`: the importing staff member
    (their scope limits the rows; they are recorded as the verifier); None only for a
    system import from the command line. Raises ImportFileError for an unusable file."""
    if user is not None and not can_import(user):
        raise ImportFileError("您没有批量导入社会组织的权限。")
    with translation.override(settings.LANGUAGE_CODE):  # Django's own messages in Chinese too
        return Importer(user=user, progress=progress).run(file)


# ---- the background job ------------------------------------------------------------------------


@job_runner
def import_job(job) -> JobOutcome:
    user = job.created_by
    if not can_import(user):
        raise JobError("您没有批量导入社会组织的权限。")
    if not job.input_file:
        raise JobError("上传的文件已不存在，请重新上传。")
    source = job.params.get("filename") or "导入文件.xlsx"
    with job.input_file.open("rb") as f:  # an ImportFileError fails the job with its message (core.jobs)
        result = import_organisations(f, user=user, progress=lambda done, total: job_progress(job, done, total))
    notes = [f"第{r.row}行：{r.reason}" for r in result.rejected[:50]]
    if len(result.rejected) > 50:
        notes.append(f"……另有 {len(result.rejected) - 50} 行，请下载 Excel 查看全部。")
    return JobOutcome(
        message=result.summary_text(),
        content=result.rejected_workbook() if result.rejected else None,
        filename=f"{PurePath(source).stem}-未通过校验的行.xlsx",
        data={
            "counts": result.counts,
            "summary": result.summary_pairs(),
            "notes": notes,
            "result_label": "未通过校验的行（含错误原因）",
        },
    )


# ---- the template -----------------------------------------------------------------------------


def example_row(user) -> dict:
    """A valid example, in a region the user may import into."""
    from .validators import orgcode_check_char, uscc_check_char

    lookups = Lookups(user)
    candidates = [r for r in lookups.regions_by_id.values() if lookups.in_scope(r)]
    candidates.sort(key=lambda r: (r.level != Region.Level.STREET, r.path))
    region = candidates[0] if candidates else None
    division = (region.code[:6] if region else "420704").ljust(6, "0")
    body = "MA000001"
    first17 = f"52{division}{body}{orgcode_check_char(body)}"
    areas = list(ServiceArea.objects.order_by("sort_order", "pk")[:2])
    values = {c.key: c.example for c in COLUMNS}
    values.update(
        name=EXAMPLE_PREFIX + "鄂州市凤凰街道老宝贝社会工作服务中心",
        uscc=first17 + uscc_check_char(first17),
        region=region.name if region and len(lookups.by_name[region.name]) == 1 else (region.code if region else ""),
        service_areas="、".join(a.name for a in areas),
        founded_on=datetime.date(2018, 5, 1),
        bank_account_name="鄂州市凤凰街道老宝贝社会工作服务中心",
    )
    return values


def template_workbook(user) -> bytes:
    """The import template: 社会组织 (headers, one example row), 填写说明, 区域代码."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = "社会组织"
    required_fill = PatternFill("solid", fgColor="FDE9D9")
    optional_fill = PatternFill("solid", fgColor="EEF3FA")
    example = example_row(user)
    for i, col in enumerate(COLUMNS, start=1):
        cell = put(ws, 1, i, col.header)
        cell.font = Font(bold=True, color="9C0006" if col.required else "1F3864")
        cell.fill = required_fill if col.required else optional_fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        if col.help:
            cell.comment = Comment(("必填。" if col.required else "") + col.help, "公益创投管理平台")
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = col.width
        value = example.get(col.key)
        ex = put(ws, 2, i, value if value not in ("", None) else None)
        if col.key == "founded_on":
            ex.number_format = "yyyy-mm-dd"
        elif col.key == "registered_capital":
            ex.number_format = "#,##0.00"
        elif col.key in ("uscc", "filing_number", "contact_phone", "bank_account"):
            ex.number_format = "@"
            for r in range(3, 1002):  # pre-format the first rows as text so long numbers survive
                ws.cell(row=r, column=i).number_format = "@"
    ws.freeze_panes = "B2"
    type_col = get_column_letter(next(i for i, c in enumerate(COLUMNS, start=1) if c.key == "org_type"))
    dv = DataValidation(
        type="list",
        formula1='"' + ",".join(label for _, label in OrgType.choices) + '"',
        allow_blank=False,
        showErrorMessage=False,
    )
    dv.add(f"{type_col}2:{type_col}10001")
    ws.add_data_validation(dv)

    notes = wb.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 90
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    lines = [
        ("社会组织批量导入说明", "", ""),
        ("", "", "1. 在“社会组织”表中每行填写一个组织，第一行表头请勿修改；红色表头为必填列。"),
        (
            "",
            "",
            f"2. 第2行是示例，名称以“{EXAMPLE_PREFIX}”开头的行不会导入；请删除示例行或改成真实数据（去掉“{EXAMPLE_PREFIX}”）。",
        ),
        (
            "",
            "",
            "3. 有统一社会信用代码的按代码匹配，备案的社区社会组织按备案编号匹配，筹备中的组织按名称+所属区域匹配；匹配到已有组织时更新其资料，否则新增。",
        ),
        ("", "", "4. 更新已有组织时，空白单元格表示保留系统中的原值，不会清空。同一文件重复导入不会产生重复数据。"),
        (
            "",
            "",
            "5. 新导入的社会团体、民办非企业单位、基金会和备案的社区社会组织视为登记管理机关已登记的组织，直接成为“已认证”，"
            f"审核记录为“{IMPORT_REASON}”；筹备中的组织为“草稿”。已存在的组织不改变登记状态。",
        ),
        (
            "",
            "",
            "6. 只能导入您管辖区域内的组织。未通过校验的行不会导入，可在任务页面下载带“错误原因”的 Excel，修改后重新导入。",
        ),
        ("", "", f"7. 单个文件最多 {MAX_ROWS} 行、20 MB。"),
        ("", "", ""),
        ("列名", "是否必填", "说明"),
    ]
    for c in COLUMNS:
        lines.append((c.header, "必填" if c.required else "选填", c.help))
    lines += [("", "", ""), ("类型可填写", "", "")]
    lines += [("", "", label) for _, label in OrgType.choices]
    lines += [("", "", ""), ("服务领域可填写", "", "")]
    lines += [("", "", a.name) for a in ServiceArea.objects.order_by("sort_order", "pk")]
    for row in lines:
        append(notes, row, alignment=wrap)
    for r in (1, 10):
        for cell in notes[r]:
            cell.font = bold
    notes["A1"].font = Font(bold=True, size=14)

    regions_ws = wb.create_sheet("区域代码")
    append(regions_ws, ["行政区划代码", "名称", "完整名称", "层级"], font=bold)
    lookups = Lookups(user)
    for r in sorted(lookups.regions_by_id.values(), key=lambda r: r.path):
        if lookups.in_scope(r):
            append(regions_ws, [r.code, r.name, lookups.full_names[r.pk], Region.Level(r.level).label])
    for letter, width in zip("ABCD", (16, 18, 40, 10), strict=True):
        regions_ws.column_dimensions[letter].width = width
    for row in regions_ws.iter_rows(min_row=2, max_col=1):
        row[0].number_format = "@"

    return workbook_bytes(wb)


TEMPLATE_FILENAME = "社会组织导入模板.xlsx"
