"""专家库: a call manager adds an expert (with the login account, holding the reviewer
role), edits them, pauses and resumes them. Each checks `grants.manage_experts` in the
expert's region (both regions when it moves), validates everything before writing and
writes Wagtail's log of the expert (its history screen shows it).

The login name of a new account is the mobile number. An account that already exists
with that number (or that name) is linked instead, if it is not an expert yet: it gets
the reviewer role and keeps its own name, e-mail and password. The account's 姓名, 手机号
and 邮箱 are edited here only while it is nothing but an expert's account: those of a
staff member or an applicant are their own (else a manager could take over an account by
changing its e-mail and resetting its password)."""

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from wagtail.log_actions import log

from accounts.models import User
from accounts.roles import GROUP_NAMES, Role, grant_role
from accounts.selectors import has_scoped_perm
from accounts.validators import MOBILE_RE, normalise_mobile, validate_mobile
from core.workflow import extra_action

from ..models import Affiliation, ExpertProfile
from ..models.review import AFFILIATION_KINDS

MANAGE_EXPERTS = "grants.manage_experts"
DENIED = "您无权管理该专家：需要“管理专家库”的权限，且专家所在区域须在您负责的区域内。"
# the profile's own columns a manager edits (region, expertise and affiliations apart)
PROFILE_FIELDS = ("employer", "title", "available", "unavailable_note", "max_per_call")
ACCOUNT_LOCKED = "该账号还有其他身份（工作人员或申报单位用户），其姓名、手机号和邮箱只能由本人或系统管理员修改。"
NOTE_REQUIRED = "暂停评审时请写明原因（如：长期出差、本年度回避），抽取专家时会显示。"
TAKEN_MEANWHILE = "该手机号或电子邮箱刚刚被其他账号使用（可能有人同时添加了这位专家），请刷新专家库查看后再保存。"
PAUSED_LOG = "grants.expert.pause"
RESUMED_LOG = "grants.expert.resume"


def can_manage(user, expert: ExpertProfile) -> bool:
    return has_scoped_perm(user, MANAGE_EXPERTS, expert.region)


def _require(by, region) -> None:
    if not has_scoped_perm(by, MANAGE_EXPERTS, region):
        raise PermissionDenied(DENIED)


def account_is_own(user: User) -> bool:
    """Whether the pool may edit the account's name, mobile and e-mail: an account that is
    only an expert's (no staff flag, no role but 评审专家)."""
    if user.is_staff or user.is_superuser:
        return False
    names = set(user.groups.values_list("name", flat=True))
    return names <= {GROUP_NAMES[Role.REVIEWER]}


def account_fields(user: User) -> dict:
    """The account's 姓名, 手机号 and 邮箱 as the expert's form shows them (an account
    linked by its login name may have the number only as its username)."""
    mobile = user.mobile or (user.username if MOBILE_RE.match(user.username or "") else "")
    return {"name": user.name, "mobile": mobile, "email": user.email}


# ---- checking what was typed ---------------------------------------------------------------------


def _clean_account(name: str, mobile: str, email: str, errors: dict) -> tuple[str, str, str]:
    name = (name or "").strip()
    if not name:
        errors["name"] = "请填写专家姓名。"
    elif len(name) > 50:
        errors["name"] = "姓名不能超过50个字。"
    mobile = normalise_mobile(mobile or "")
    if not mobile:
        errors["mobile"] = "请填写手机号（专家用它登录）。"
    else:
        try:
            validate_mobile(mobile)
        except ValidationError as exc:
            errors["mobile"] = exc.messages[0]
    email = (email or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "请输入有效的电子邮箱，例如 zhangsan@example.org。"
    return name, mobile, email


def _same(field: str, typed: str, stored: str) -> bool:
    return typed.lower() == stored.lower() if field == "email" else typed == stored


def _accounts_with(mobile: str, *, exclude=None) -> list[User]:
    qs = User.objects.filter(Q(mobile=mobile) | Q(username__iexact=mobile))
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return list(qs)


def _email_taken(email: str, *, exclude=None) -> bool:
    qs = User.objects.filter(email__iexact=email)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return bool(email) and qs.exists()


def _clean_profile(expert: ExpertProfile, errors: dict) -> None:
    if not expert.available and not (expert.unavailable_note or "").strip():
        errors.setdefault("unavailable_note", NOTE_REQUIRED)
    if expert.available:
        expert.unavailable_note = ""
    try:
        expert.full_clean(exclude=["user"], validate_unique=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, messages)


def _clean_affiliations(rows, errors: dict) -> list[dict]:
    """[{"organisation", "kind", "note"}] checked: a known kind, a short note, no pair twice."""
    kinds = dict(AFFILIATION_KINDS)
    cleaned, seen, problems = [], set(), []
    for n, row in enumerate(rows, start=1):
        org, kind, note = row.get("organisation"), row.get("kind") or "", (row.get("note") or "").strip()
        if org is None:
            problems.append(f"第{n}条关联关系：请选择组织。")
            continue
        if kind not in kinds:
            problems.append(f"第{n}条关联关系：请选择与“{org}”的关系。")
            continue
        if len(note) > 200:
            problems.append(f"第{n}条关联关系：说明不能超过200个字。")
            continue
        if (org.pk, kind) in seen:
            problems.append(f"“{org}”的“{kinds[kind]}”关系填写了两次，请删去一条。")
            continue
        seen.add((org.pk, kind))
        cleaned.append({"organisation": org, "kind": kind, "note": note})
    if problems:
        errors[None] = problems
    return cleaned


def _check_visible(by, rows: list[dict], errors: dict, *, declared=frozenset()) -> None:
    """An organisation newly declared must be one `by` may see named (any in their scope,
    a verified one elsewhere): the form's chooser offers no other."""
    from orgs.models import Organisation
    from orgs.selectors import visible_q

    q = visible_q(by)
    new = {r["organisation"].pk for r in rows} - set(declared)
    if not new or q is None:
        return
    visible = set(Organisation.objects.filter(q, pk__in=new).values_list("pk", flat=True))
    hidden = [r["organisation"].name for r in rows if r["organisation"].pk in new - visible]
    if hidden:
        errors.setdefault(None, []).append(
            f"不能选择“{'、'.join(hidden)}”：只能选择您辖区内的组织或已通过登记审核的组织。"
        )


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError({(k or "__all__"): v for k, v in errors.items()})


# ---- writing -------------------------------------------------------------------------------------


def _sync_affiliations(expert: ExpertProfile, rows: list[dict]) -> bool:
    """Make the expert's affiliations `rows`: a pair kept keeps its row (and the date it
    was declared), a note changed is updated. Returns whether anything changed."""
    current = {(a.organisation_id, a.kind): a for a in expert.affiliations.all()}
    wanted = {(r["organisation"].pk, r["kind"]): r for r in rows}
    changed = False
    gone = [a.pk for key, a in current.items() if key not in wanted]
    if gone:
        Affiliation.objects.filter(pk__in=gone).delete()
        changed = True
    for key, r in wanted.items():
        a = current.get(key)
        if a is None:
            Affiliation.objects.create(expert=expert, organisation=r["organisation"], kind=r["kind"], note=r["note"])
            changed = True
        elif a.note != r["note"]:
            a.note = r["note"]
            a.save(update_fields=["note"])
            changed = True
    return changed


def expert_create(
    *,
    by,
    name: str,
    mobile: str,
    email: str = "",
    region,
    password: str = "",
    expertise=(),
    affiliations=(),
    **profile_fields,
) -> ExpertProfile:
    """Add an expert to the pool. A new account is created (login name: the mobile; the
    initial password required) or an existing account without an expert profile linked;
    either gets the reviewer role. Returns the profile with `linked` (True when an
    existing account was used). Raises PermissionDenied and ValidationError (by field)."""
    _require(by, region)
    unknown = set(profile_fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"expert_create got unexpected fields: {sorted(unknown)}")
    errors: dict = {}
    name, mobile, email = _clean_account(name, mobile, email, errors)
    expert = ExpertProfile(region=region, **profile_fields)
    _clean_profile(expert, errors)
    rows = _clean_affiliations(affiliations, errors)
    _check_visible(by, rows, errors)

    account = None
    if "mobile" not in errors:
        found = _accounts_with(mobile)
        if len(found) > 1:
            errors["mobile"] = (
                "该手机号同时对应两个账号（一个以它为手机号，一个以它为用户名），请联系系统管理员处理后再添加。"
            )
        elif found:
            account = found[0]
            if ExpertProfile.objects.filter(user=account).exists():
                errors["mobile"] = "该手机号的账号已在专家库中，无需重复添加；如需修改请在专家库中查找。"
            elif not account.is_active:
                errors["mobile"] = "该手机号的账号已停用，请联系系统管理员启用后再添加。"
    if account is None:
        if email and _email_taken(email):
            errors["email"] = "该电子邮箱已被其他账号使用，请换一个或不填。"
        if "mobile" in errors:
            pass  # a new account or a linked one: not known until the number is right
        elif not password:
            errors["password"] = "新建专家账号时请设置初始密码，并告知专家登录后修改。"
        elif "name" not in errors:
            probe = User(username=mobile, name=name, email=email, mobile=mobile)
            try:
                password_validation.validate_password(password, probe)
            except ValidationError as exc:
                errors["password"] = exc.messages
    _raise(errors)

    try:
        with transaction.atomic():
            if account is None:
                account = User(username=mobile, mobile=mobile, name=name, email=email)
                account.set_password(password)
                account.save()
                expert.linked = False
            else:
                fill = {}
                if not account.name:
                    fill["name"] = name
                if email and not account.email and not _email_taken(email, exclude=account):
                    fill["email"] = email
                for field, value in fill.items():
                    setattr(account, field, value)
                if fill:
                    account.save(update_fields=list(fill))
                expert.linked = True
            grant_role(account, Role.REVIEWER)
            expert.user = account
            expert.save()
            expert.expertise.set(expertise)
            _sync_affiliations(expert, rows)
            log(expert, "wagtail.create", user=by)
    except IntegrityError as exc:  # a simultaneous addition of the same number or e-mail
        raise ValidationError({"mobile": TAKEN_MEANWHILE}) from exc
    return expert


def expert_update(
    *,
    expert: ExpertProfile,
    by,
    name: str,
    mobile: str,
    email: str = "",
    region,
    expertise=(),
    affiliations=(),
    **profile_fields,
) -> ExpertProfile:
    """Save an expert's profile, expertise, affiliations and (while the account is only
    theirs, see `account_is_own`) its name, mobile and e-mail. A mobile changed changes
    the login name too when that was the old mobile. Only what changed is written."""
    stored = ExpertProfile.objects.select_related("user", "region").get(pk=expert.pk)
    _require(by, stored.region)
    _require(by, region)
    unknown = set(profile_fields) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"expert_update got unexpected fields: {sorted(unknown)}")
    errors: dict = {}
    account = stored.user
    shown = account_fields(account)
    if account_is_own(account):
        name, mobile, email = _clean_account(name, mobile, email, errors)
        typed = {"name": name, "mobile": mobile, "email": email}
        account_changes = {k: v for k, v in typed.items() if k not in errors and not _same(k, v, shown[k])}
    else:
        typed = {"name": (name or "").strip(), "mobile": normalise_mobile(mobile or ""), "email": (email or "").strip()}
        for field, value in typed.items():
            if not _same(field, value, shown[field]):
                errors[field] = ACCOUNT_LOCKED
        account_changes = {}
    if "mobile" in account_changes and _accounts_with(account_changes["mobile"], exclude=account):
        errors["mobile"] = "该手机号已被其他账号使用。"
    if "email" in account_changes and _email_taken(account_changes["email"], exclude=account):
        errors["email"] = "该电子邮箱已被其他账号使用，请换一个或不填。"

    for field, value in profile_fields.items():
        setattr(stored, field, value)
    stored.region = region
    _clean_profile(stored, errors)
    rows = _clean_affiliations(affiliations, errors)
    _check_visible(by, rows, errors, declared=set(stored.affiliations.values_list("organisation_id", flat=True)))
    _raise(errors)

    try:
        with transaction.atomic():
            if account_changes:
                if "mobile" in account_changes and account.username == shown["mobile"]:
                    account_changes["username"] = account_changes["mobile"]  # the login name follows
                for field, value in account_changes.items():
                    setattr(account, field, value)
                account.save(update_fields=list(account_changes))
            before = ExpertProfile.objects.filter(pk=stored.pk).values(*PROFILE_FIELDS, "region_id").get()
            now = {f: getattr(stored, f) for f in (*PROFILE_FIELDS, "region_id")}
            changed = [f for f in now if before[f] != now[f]]
            if changed:
                stored.save(update_fields=[f.removesuffix("_id") for f in changed])
            if {e.pk for e in expertise} != set(stored.expertise.values_list("pk", flat=True)):
                stored.expertise.set(expertise)
            _sync_affiliations(stored, rows)
            log(stored, "wagtail.edit", user=by)
    except IntegrityError as exc:
        raise ValidationError({"mobile": TAKEN_MEANWHILE}) from exc
    return stored


# ---- pausing and resuming (the actions on the expert's screen) --------------------------------------


def _paused_log(expert, by, action, note=""):
    log(expert, action, user=by, data={"note": note} if note else None)


@extra_action(
    ExpertProfile,
    "pause",
    "暂停评审",
    permitted=lambda expert, user: can_manage(user, expert),
    when=lambda e: e.available,
    reason="required",
    reason_label="暂停原因",
    reason_help="如：长期出差、身体原因、本年度回避。暂停期间抽取专家时不会抽到该专家，已分配的评审任务不受影响。",
    success="已暂停“{obj}”参加评审。",
    danger=True,
    order=10,
)
def expert_pause(*, expert: ExpertProfile, by, reason: str = "") -> ExpertProfile:
    """Take the expert out of future draws, with the reason (required)."""
    _require(by, expert.region)
    note = (reason or "").strip()
    if not note:
        raise ValidationError({"reason": NOTE_REQUIRED})
    if len(note) > 200:
        raise ValidationError({"reason": "暂停原因不能超过200个字。"})
    with transaction.atomic():
        stored = ExpertProfile.objects.select_for_update().get(pk=expert.pk)
        if not stored.available:
            raise ValidationError("该专家已经暂停评审。")
        stored.available, stored.unavailable_note = False, note
        stored.save(update_fields=["available", "unavailable_note"])
        _paused_log(stored, by, PAUSED_LOG, note)
    return stored


@extra_action(
    ExpertProfile,
    "resume",
    "恢复评审",
    permitted=lambda expert, user: can_manage(user, expert),
    when=lambda e: not e.available,
    success="“{obj}”已恢复参加评审，之后的抽取可以抽到该专家。",
    order=11,
)
def expert_resume(*, expert: ExpertProfile, by) -> ExpertProfile:
    _require(by, expert.region)
    with transaction.atomic():
        stored = ExpertProfile.objects.select_for_update().get(pk=expert.pk)
        if stored.available:
            raise ValidationError("该专家已经可以参加评审。")
        stored.available, stored.unavailable_note = True, ""
        stored.save(update_fields=["available", "unavailable_note"])
        _paused_log(stored, by, RESUMED_LOG)
    return stored
