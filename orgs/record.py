"""An organisation's track record (业绩) from the other apps, so orgs need not know them:
grants adds its funded projects and their final grades (an 优秀 project stands out). An
app registers

    @hooks.register("register_organisation_record")
    def grants_record(orgs) -> dict[int, list[RecordLine]]: ...

taking organisations and returning the lines of each (by organisation id; an organisation
with nothing to say is left out), in a fixed number of queries whatever their number.
The organisation's staff page shows them under 项目业绩."""

from dataclasses import dataclass

from wagtail import hooks

ORGANISATION_RECORD_HOOK = "register_organisation_record"


@dataclass(frozen=True)
class RecordLine:
    label: str  # "公益创投项目"
    value: str  # "3个（优秀1个）"
    items: tuple = ()  # (("2026年凤凰街道公益创投", "老宝贝·长者助餐", "优秀"), …)
    highlight: bool = False  # an achievement worth noticing (an 优秀 final grade)


def organisation_record(orgs) -> dict[int, list[RecordLine]]:
    orgs = list(orgs)
    lines: dict[int, list[RecordLine]] = {o.pk: [] for o in orgs}
    for provider in hooks.get_hooks(ORGANISATION_RECORD_HOOK):
        for org_id, more in (provider(orgs) or {}).items():
            if org_id in lines:
                lines[org_id].extend(more)
    return lines


def record_of(org) -> list[RecordLine]:
    return organisation_record([org])[org.pk]
