"""The reviewer's screens in the Wagtail admin (grants/staff/reviews.py): the queue of their
own assignments, the scoring screen (declaration first, then the proposal and the rubric,
drafts, submission), blind review (nothing naming the applicant in the page or in the
attachments they download), and who may see any of it (anonymous, applicant, another
reviewer, a call manager, guessed ids)."""

import io
import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from accounts.roles import Role
from core.workflow import run_transition
from grants.models import Assignment, AssignmentStatus, CallStatus, Proposal, ProposalAttachment, ProposalStatus
from grants.services import review
from tests.factories import applicant, staff
from tests.grants.factories import call_in_review, eligible_org, make_call, make_expert, proposal_at
from tests.html_forms import read_form
from tests.orgs.test_admin import sidebar_menu
from tests.queries import page_queries

A = AssignmentStatus
P = ProposalStatus
pytestmark = pytest.mark.django_db
QUEUE = reverse("grants_admin:reviews")

ORG_NAME = "鄂州市海马爸比亲子服务中心"
SHORT_NAME = "海马爸比亲子服务中心"
LEGAL_REP = "王海涛"
CONTACT = "刘芳芳"
TEAM = ["李小红", "赵大勇"]
SECRET_NEED = "双职工家庭放学后无人照看的孩子约60名"


def screen(a) -> str:
    return reverse("grants_admin:review", args=[a.pk])


def attachment_url(att) -> str:
    return reverse("grants_admin:review_attachment", args=[att.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def full_points(rnd, value="15") -> dict:
    return {c["key"]: str(min(Decimal(value), Decimal(str(c["weight"])))) for c in rnd.rubric()}


def pdf_bytes(**info) -> bytes:
    """A one-page PDF with document information and an XMP stream."""
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(200, 200)
    w.add_metadata(info)
    w.xmp_metadata = (
        '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        f'<dc:creator>{ORG_NAME}</dc:creator></x:xmpmeta><?xpacket end="w"?>'
    ).encode()
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()


def attach(proposal, name, content, kind="budget") -> ProposalAttachment:
    att = ProposalAttachment(proposal=proposal, kind=kind, original_name=name, size=len(content))
    att.file.save("upload.pdf", ContentFile(content), save=False)
    att.save()
    return att


@pytest.fixture
def panel(regions):
    """A call in review with 2 proposals, 5 experts, panels of 2 drawn."""
    call, proposals, experts, manager = call_in_review(2, 5, panel_size=2)
    rnd = review.draw_panels(call=call, by=manager, seed="fixed")
    first = rnd.assignments.order_by("pk").first()
    return {"call": call, "proposals": proposals, "experts": experts, "manager": manager, "round": rnd, "a": first}


def declared(a) -> Assignment:
    review.declare(assignment=a, by=a.expert.user, conflict=False)
    return Assignment.objects.get(pk=a.pk)


def other_expert(panel, a):
    """An expert of the pool with no assignment on a's proposal."""
    taken = set(Assignment.objects.filter(proposal=a.proposal).values_list("expert_id", flat=True))
    return next(e for e in panel["experts"] if e.pk not in taken)


# ---- who may see it ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_the_login(client, panel):
    for url in (QUEUE, screen(panel["a"])):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_an_applicant_gets_nothing(client, panel):
    client.force_login(applicant())
    for url in (QUEUE, screen(panel["a"])):
        response = client.get(url)
        assert response.status_code in (302, 403)
        assert panel["a"].proposal.title not in response.content.decode()


def test_another_reviewer_gets_a_404_for_the_screen_and_the_attachment(client, panel):
    a = declared(panel["a"])
    att = attach(a.proposal, "预算说明.pdf", pdf_bytes(**{"/Author": ORG_NAME}))
    stranger = other_expert(panel, a)
    client.force_login(stranger.user)

    assert client.get(screen(a)).status_code == 404
    assert client.get(attachment_url(att)).status_code == 404
    response = client.post(screen(a), {"action": "save", f"points_{a.round.rubric()[0]['key']}": "1"})
    assert response.status_code == 404
    assert Assignment.objects.get(pk=a.pk).points == {}


def test_a_call_manager_cannot_open_or_score_an_assignment(client, panel):
    a = panel["a"]
    client.force_login(panel["manager"])
    assert client.get(screen(a)).status_code == 404
    assert client.post(screen(a), {"action": "declare", "conflict": "no"}).status_code == 404
    assert Assignment.objects.get(pk=a.pk).status == A.ASSIGNED
    # the queue is the reviewer's: a manager (no grants.review_proposal) is turned away
    assert client.get(QUEUE).status_code in (302, 403)


def test_guessing_other_assignment_ids_finds_nothing(client, panel):
    a = panel["a"]
    client.force_login(a.expert.user)
    mine = set(Assignment.objects.filter(expert=a.expert).values_list("pk", flat=True))
    others = Assignment.objects.exclude(pk__in=mine).values_list("pk", flat=True)
    assert others
    top = Assignment.objects.order_by("-pk").first().pk
    for pk in [*others, top + 1, top + 1000]:
        assert client.get(reverse("grants_admin:review", args=[pk])).status_code == 404
    for pk in mine:
        assert client.get(reverse("grants_admin:review", args=[pk])).status_code == 200


def test_the_menu_item_is_shown_to_reviewers_only(client, panel):
    client.force_login(panel["a"].expert.user)
    menu = sidebar_menu(client)
    assert '"评审任务"' in menu and f'"{QUEUE}"' in menu
    client.force_login(panel["manager"])
    assert "评审任务" not in sidebar_menu(client)


# ---- the declaration -----------------------------------------------------------------------------


def test_before_the_declaration_only_number_title_and_category_are_shown(client, panel):
    a = panel["a"]
    p = a.proposal
    client.force_login(a.expert.user)

    html = client.get(screen(a)).content.decode()

    assert p.title in html and p.number in html and p.category.name in html
    assert "利益冲突声明" in html
    for hidden in (p.need_analysis, p.objectives, p.approach, p.summary, p.organisation.name, "项目预算"):
        assert hidden not in html
    assert "data-review-form" not in html


def test_declaring_no_conflict_opens_scoring(client, panel):
    a = panel["a"]
    client.force_login(a.expert.user)

    response = client.post(screen(a), {"action": "declare", "conflict": "no"})

    assert response.status_code == 302 and response["Location"] == screen(a)
    a.refresh_from_db()
    assert a.status == A.SCORING and a.declared_at is not None
    html = client.get(screen(a)).content.decode()
    assert "data-review-form" in html
    assert a.proposal.need_analysis in html and "项目预算" in html and "资助金额占总预算" in html
    for c in a.round.rubric():
        assert c["name"] in html and c["guidance"] in html
        assert f'name="points_{c["key"]}"' in html
    assert 'max="20"' in html and 'step="0.1"' in html and 'min="0"' in html


def test_a_conflict_recuses_and_a_replacement_is_drawn(client, panel):
    a = panel["a"]
    client.force_login(a.expert.user)
    before = set(Assignment.objects.filter(proposal=a.proposal).values_list("expert_id", flat=True))

    missing_kind = client.post(screen(a), {"action": "declare", "conflict": "yes", "note": "配偶在该机构"})
    assert missing_kind.status_code == 400
    assert "请选择利益冲突的类型。" in missing_kind.content.decode()
    assert "配偶在该机构" in missing_kind.content.decode()  # what was typed is kept
    assert Assignment.objects.get(pk=a.pk).status == A.ASSIGNED

    response = client.post(
        screen(a), {"action": "declare", "conflict": "yes", "kind": "relative", "note": "配偶在该机构"}
    )

    assert response.status_code == 302
    a.refresh_from_db()
    assert a.status == A.RECUSED and a.conflict_kind == "relative" and a.conflict_note == "配偶在该机构"
    new = Assignment.objects.filter(proposal=a.proposal).exclude(expert_id__in=before).get()
    assert new.status == A.ASSIGNED and new.expert_id != a.expert_id
    assert any("已自动抽取替补专家" in m for m in messages_of(response))
    html = client.get(screen(a)).content.decode()
    assert "已回避该项目" in html and a.proposal.need_analysis not in html
    # a recused reviewer cannot download the attachments either
    att = attach(a.proposal, "预算说明.pdf", pdf_bytes())
    assert client.get(attachment_url(att)).status_code == 404


# ---- scoring ------------------------------------------------------------------------------------


def test_a_draft_saved_and_saved_again_unchanged_stays_identical(client, panel):
    a = declared(panel["a"])
    rubric = a.round.rubric()
    client.force_login(a.expert.user)
    data = {
        "action": "save",
        f"points_{rubric[0]['key']}": "15",
        f"points_{rubric[1]['key']}": "20.5",
        f"comment_{rubric[0]['key']}": "需求调研扎实，\n有入户问卷。",
        "comment": "总体可行。",
    }
    response = client.post(screen(a), data)
    assert response.status_code == 302
    a.refresh_from_db()
    stored = (a.points, a.comments, a.comment)
    assert a.points == {rubric[0]["key"]: "15.0", rubric[1]["key"]: "20.5"}
    assert a.status == A.SCORING

    page = client.get(screen(a)).content.decode()
    assert "有草稿" in client.get(QUEUE).content.decode()
    form = read_form(page, action="").post_data()
    form.pop("csrfmiddlewaretoken", None)
    assert form[f"points_{rubric[1]['key']}"] == "20.5"
    assert "35.5" in page  # the total, shown without JavaScript
    response = client.post(screen(a), {**form, "action": "save"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert (a.points, a.comments, a.comment) == stored


def test_a_score_out_of_range_is_refused_in_chinese_and_what_was_typed_is_shown_again(client, panel):
    a = declared(panel["a"])
    rubric = a.round.rubric()
    client.force_login(a.expert.user)
    data = {
        "action": "submit",
        **{f"points_{k}": v for k, v in full_points(a.round).items()},
        f"points_{rubric[0]['key']}": "25",
        f"comment_{rubric[1]['key']}": "活动安排与目标对应。",
        "comment": "预算偏高，建议压缩物料费。",
    }

    response = client.post(screen(a), data)

    assert response.status_code == 400
    html = response.content.decode()
    assert "“需求调研”的得分须在0到20分之间。" in html
    # next to its field: inside the criterion's block, before the next criterion
    block = html[html.index(f'id="criterion-{rubric[0]["key"]}"') : html.index(f'id="criterion-{rubric[1]["key"]}"')]
    assert "“需求调研”的得分须在0到20分之间。" in block and 'value="25"' in block
    assert 'value="25"' in html and "活动安排与目标对应。" in html and "预算偏高，建议压缩物料费。" in html
    a.refresh_from_db()
    assert a.status == A.SCORING and a.points == {} and a.comment == "" and a.total is None

    # the same for a draft, and an overall comment missing on submit
    response = client.post(screen(a), {**data, "action": "save"})
    assert response.status_code == 400 and Assignment.objects.get(pk=a.pk).points == {}
    response = client.post(screen(a), {**data, f"points_{rubric[0]['key']}": "18", "comment": ""})
    assert response.status_code == 400
    assert "请填写总体评语，或为每一项评审标准写明评语。" in response.content.decode()
    assert Assignment.objects.get(pk=a.pk).status == A.SCORING


def test_submitting_locks_the_scores(client, panel):
    a = declared(panel["a"])
    client.force_login(a.expert.user)
    points = {f"points_{k}": v for k, v in full_points(a.round).items()}

    response = client.post(screen(a), {"action": "submit", **points, "comment": "需求扎实。"})

    assert response.status_code == 302
    a.refresh_from_db()
    assert a.status == A.SUBMITTED and a.total == Decimal("75.00")
    locked = Assignment.objects.filter(pk=a.pk).values().get()

    again = {"action": "submit", **{k: "1" for k in points}, "comment": "改主意了。"}
    response = client.post(screen(a), again)
    assert response.status_code == 302 and any("不能" in m for m in messages_of(response))
    client.post(screen(a), {**again, "action": "save"})
    assert Assignment.objects.filter(pk=a.pk).values().get() == locked

    html = client.get(screen(a)).content.decode()
    assert "data-review-form" not in html and "我的评分（已提交）" in html and "75.00" in html
    assert "本轮评分结束前，不显示其他评委的评分。" in html
    assert "75.00" in client.get(QUEUE).content.decode()


def test_other_reviewers_scores_show_only_after_the_round_closes_and_without_names(client, panel):
    rnd, manager = panel["round"], panel["manager"]
    for p in panel["proposals"]:
        for i, a in enumerate(Assignment.objects.filter(proposal=p).order_by("pk")):
            declared(a)
            review.submit_scores(assignment=a, by=a.expert.user, points=full_points(rnd, str(10 + i)), comment="可行。")
    a, b = Assignment.objects.filter(proposal=panel["proposals"][0]).order_by("pk")
    client.force_login(a.expert.user)
    html = client.get(screen(a)).content.decode()
    assert f"{b.total}" not in html and "评委1" not in html

    review.close_round(round=rnd, by=manager)

    html = client.get(screen(a)).content.decode()
    assert "评委1" in html and "评委2" in html and f"{b.total}" in html
    assert b.expert.name not in html and a.expert.name not in html


# ---- blind review -------------------------------------------------------------------------------


@pytest.fixture
def blind(regions):
    """A blind call whose proposal names its organisation, people and USCC in its text,
    with a PDF attachment whose metadata names them too."""
    call = make_call(status=CallStatus.OPEN, blind_review=True, panel_size=2)
    manager = staff(Role.CALL_MANAGER, call.region)
    org, leader = eligible_org(
        name=ORG_NAME, legal_representative=LEGAL_REP, contact_name=CONTACT, contact_phone="13712345678"
    )
    proposal = proposal_at(
        call,
        P.ELIGIBLE,
        org=org,
        leader=leader,
        checker=manager,
        title=f"{SHORT_NAME}·四点半课堂",
        summary=f"{ORG_NAME}为凤凰社区双职工家庭提供四点半课堂，由{TEAM[0]}负责。",
        need_analysis=f"{SECRET_NEED}。{SHORT_NAME}调研发现需求迫切（统一社会信用代码{org.uscc}）。",
        approach=f"法定代表人{LEGAL_REP}统筹，联系人{CONTACT}对接社区。",
        team=[
            {"user": None, "name": TEAM[0], "role": "项目负责人", "qualifications": f"{ORG_NAME}副主任，中级社工师"},
            {"user": None, "name": TEAM[1], "role": "财务", "qualifications": "会计师"},
        ],
    )
    run_transition(call, "close_applications", by=None)
    run_transition(call, "start_review", by=None)
    experts = [make_expert() for _ in range(3)]
    review.draw_panels(call=call, by=manager, seed="blind")
    a = declared(Assignment.objects.filter(proposal=proposal).order_by("pk").first())
    info = {
        "/Author": ORG_NAME,
        "/Title": f"{SHORT_NAME}预算说明",
        "/Creator": LEGAL_REP,
        "/Producer": "WPS",
        "/Subject": SHORT_NAME,
        "/Keywords": TEAM[0],
    }
    pdf = attach(proposal, f"{ORG_NAME}-预算说明.pdf", pdf_bytes(**info))
    photo = attach(proposal, f"{TEAM[0]}活动照片.png", b"\x89PNG\r\n\x1a\n0000", kind="other")
    return {"call": call, "org": org, "proposal": proposal, "a": a, "pdf": pdf, "photo": photo, "experts": experts}


def test_blind_review_shows_nothing_that_names_the_applicant(client, blind):
    a, org = blind["a"], blind["org"]
    client.force_login(a.expert.user)

    html = client.get(screen(a)).content.decode()

    assert SECRET_NEED in html  # the proposal itself is there
    for secret in (ORG_NAME, SHORT_NAME, org.uscc, LEGAL_REP, CONTACT, "13712345678", org.address, *TEAM):
        assert secret not in html, secret
    assert "申报组织·四点半课堂" in html
    assert "成员1" in html and "成员2" in html and "项目负责人" in html and "会计师" in html
    assert "附件1.pdf" in html and "附件2.png" in html
    assert reverse("grants_admin:proposal_attachment", args=[blind["pdf"].pk]) not in html

    queue = client.get(QUEUE).content.decode()
    assert "申报组织·四点半课堂" in queue
    for secret in (ORG_NAME, SHORT_NAME):
        assert secret not in queue


def test_a_blind_attachment_is_served_without_its_name_or_metadata(client, blind):
    from pypdf import PdfReader

    client.force_login(blind["a"].expert.user)

    response = client.get(attachment_url(blind["pdf"]))

    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert quote("附件1.pdf") in disposition and quote(ORG_NAME) not in disposition
    assert response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content) if response.streaming else response.content
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    meta = reader.metadata or {}
    for key in ("/Author", "/Title", "/Creator", "/Producer", "/Subject", "/Keywords"):
        assert key not in meta
    assert reader.xmp_metadata is None and "/Metadata" not in reader.trailer["/Root"]
    for secret in (ORG_NAME, SHORT_NAME, LEGAL_REP, TEAM[0]):
        for encoding in ("utf-8", "utf-16-be"):
            assert secret.encode(encoding) not in data
    assert b"WPS" not in data

    photo = client.get(attachment_url(blind["photo"]))
    assert photo.status_code == 200 and quote("附件2.png") in photo["Content-Disposition"]
    assert quote(TEAM[0]) not in photo["Content-Disposition"]


def test_outside_a_blind_call_the_reviewer_downloads_the_original(client, panel):
    a = declared(panel["a"])
    att = attach(a.proposal, "预算说明.pdf", pdf_bytes(**{"/Author": "某人"}))
    client.force_login(a.expert.user)
    html = client.get(screen(a)).content.decode()
    assert "预算说明.pdf" in html and a.proposal.organisation.name in html

    response = client.get(attachment_url(att))
    assert response.status_code == 200 and quote("预算说明.pdf") in response["Content-Disposition"]
    # before the declaration: no attachment
    b = Assignment.objects.filter(proposal=a.proposal).exclude(pk=a.pk).get()
    client.force_login(b.expert.user)
    assert client.get(attachment_url(att)).status_code == 404


# ---- the queue ------------------------------------------------------------------------------------


def test_the_queue_lists_only_the_reviewers_own_assignments(client, panel):
    a = panel["a"]
    mine = list(Assignment.objects.filter(expert=a.expert).select_related("proposal"))
    theirs = Assignment.objects.exclude(expert=a.expert).exclude(proposal__in=[m.proposal for m in mine])
    client.force_login(a.expert.user)

    response = client.get(QUEUE)

    assert response.status_code == 200
    rows = list(response.context["page_obj"].object_list)
    assert {r.pk for r in rows} == {m.pk for m in mine}
    html = response.content.decode()
    assert f"已提交 0 / 共 {len(mine)}" in html
    assert "待声明" in html and "专家评审" in html and panel["call"].title in html
    for t in theirs:
        assert t.proposal.title not in html

    declared(a)
    review.submit_scores(assignment=a, by=a.expert.user, points=full_points(a.round), comment="好。")
    html = client.get(QUEUE, {"status": "submitted"}).content.decode()
    assert f"已提交 1 / 共 {len(mine)}" in html and "75.00" in html
    rows = client.get(QUEUE, {"status": "assigned"}).context["page_obj"].object_list
    assert a.pk not in {r.pk for r in rows}
    # a call filter offers only the reviewer's calls
    other_call = make_call(title="别的街道公益创投")
    html = client.get(QUEUE).content.decode()
    assert other_call.title not in html


def test_the_deadline_is_highlighted_once_past(client, panel):
    import datetime

    from django.utils import timezone

    rnd = panel["round"]
    rnd.deadline = timezone.localdate() - datetime.timedelta(days=1)
    rnd.save(update_fields=["deadline"])
    client.force_login(panel["a"].expert.user)
    html = client.get(QUEUE).content.decode()
    assert "已过截止日期" in html and "staff-overdue" in html


def _many_assignments(expert, rnd, proposal, n):
    """`n` more proposals of the same call (copies of `proposal`), each assigned to `expert`."""
    fields = {f.attname: getattr(proposal, f.attname) for f in Proposal._meta.concrete_fields if not f.primary_key}
    copies = Proposal.objects.bulk_create(
        Proposal(**{**fields, "number": f"{proposal.number}-{i}", "title": f"{proposal.title}（{i}）"})
        for i in range(n)
    )
    Assignment.objects.bulk_create(Assignment(round=rnd, proposal=p, expert=expert) for p in copies)


def test_the_queue_runs_the_same_queries_for_3_or_30_assignments(client, regions):
    call, proposals, experts, manager = call_in_review(1, 2, panel_size=2, blind_review=True)
    rnd = review.draw_panels(call=call, by=manager)
    expert = experts[0]
    _many_assignments(expert, rnd, proposals[0], 2)
    client.force_login(expert.user)
    few = page_queries(client, QUEUE)
    assert len(client.get(QUEUE).context["page_obj"].object_list) == 3

    _many_assignments(expert, rnd, proposals[0], 27)
    many = page_queries(client, QUEUE)
    assert len(client.get(QUEUE).context["page_obj"].object_list) == 30

    assert few == many <= 15
    assert page_queries(client, QUEUE, {"call": call.pk, "status": "assigned"}) <= 15


def test_the_scoring_screen_does_not_grow_with_the_attachments(client, panel):
    a = declared(panel["a"])
    client.force_login(a.expert.user)
    attach(a.proposal, "一.pdf", pdf_bytes())
    few = page_queries(client, screen(a))
    for i in range(5):
        attach(a.proposal, f"{i}.pdf", pdf_bytes())
    assert page_queries(client, screen(a)) == few


def test_the_proposal_page_still_lists_attachments_with_their_names(client, panel):
    """The staff page shares the attachments partial: the staff URL and the real name."""
    a = panel["a"]
    att = attach(a.proposal, "预算说明.pdf", pdf_bytes())
    client.force_login(panel["manager"])
    html = client.get(reverse("grants_admin:proposal", args=[a.proposal.pk])).content.decode()
    link = reverse("grants_admin:proposal_attachment", args=[att.pk])
    assert re.search(rf'<a href="{re.escape(link)}">预算说明\.pdf</a>', html)
