"""Joining an organisation by invitation: the invitee proves the invited mobile or e-mail
with a one-time code sent to it before seeing anything of the organisation; staff attach
a 负责人 to an organisation without members the same way (/admin/orgs/review/<pk>/attach-leader/)."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_fsm_log.models import StateLog

from accounts import sms, verification
from accounts.models import User, VerificationCode
from accounts.roles import Role
from core.models import Notification
from orgs import services
from orgs.models import DocumentKind, Invitation, Membership
from tests.factories import PASSWORD, OrganisationFactory, applicant, organisation_with_leader, pdf_upload, staff

pytestmark = pytest.mark.django_db

MOBILE = "13955556666"
BANK_ACCOUNT = "6222021234567890123"


def text(response) -> str:
    return response.content.decode()


@pytest.fixture
def org_leader(regions):
    org, leader = organisation_with_leader(region=regions["fenghuang"], bank_name="中国工商银行鄂州分行")
    type(org).objects.filter(pk=org.pk).update(bank_account=BANK_ACCOUNT)
    upload = pdf_upload("开户证明.pdf")
    upload.kind = "pdf"
    services.document_upload(org=org, by=leader, kind=DocumentKind.BANK_PROOF, upload=upload)
    return org, leader


@pytest.fixture
def org(org_leader):
    return org_leader[0]


@pytest.fixture
def leader(org_leader):
    return org_leader[1]


def invite(org, leader, **kwargs) -> Invitation:
    kwargs.setdefault("mobile", MOBILE)
    return services.member_invite(org=org, by=leader, role=kwargs.pop("role", Membership.Role.CONTACT), **kwargs)


def sign_up(client, mobile=MOBILE, username="maoming"):
    response = client.post(
        "/accounts/signup/",
        {
            "username": username,
            "name": "冒名者",
            "mobile": mobile,
            "email": f"{username}@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302, text(response)
    return User.objects.get(username=username)


def bank_doc_url(org) -> str:
    doc = org.documents.get(kind=DocumentKind.BANK_PROOF)
    return f"/me/orgs/{org.pk}/documents/{doc.pk}/"


def the_code(inv) -> VerificationCode:
    return VerificationCode.objects.filter(scope=inv.verification_scope).latest("created_at")


# ---- defect 5: the invited number must be proven --------------------------------------------


def test_signing_up_with_the_invited_mobile_without_the_code_gives_nothing(client, org, leader):
    inv = invite(org, leader)
    user = sign_up(client)  # the number was never verified at sign-up

    dashboard = text(client.get("/me/"))
    assert f"{org.name} 邀请您担任“项目联系人”" in dashboard
    assert "待验证" in dashboard
    page = client.get(f"/me/orgs/invitations/{inv.pk}/")
    assert page.status_code == 200 and "验证码已发送至 139****6666" in text(page)
    assert BANK_ACCOUNT not in text(page)

    response = client.post(f"/me/orgs/invitations/{inv.pk}/accept/", {})
    assert response.status_code == 400 and "请输入收到的6位数字验证码。" in text(response)
    response = client.post(f"/me/orgs/invitations/{inv.pk}/accept/", {"code": "000000"})
    assert response.status_code == 400 and "验证码不正确，还可以再试4次。" in text(response)

    assert not Membership.objects.filter(user=user).exists()
    assert Invitation.objects.get(pk=inv.pk).status == Invitation.Status.PENDING
    detail = client.get(f"/me/orgs/{org.pk}/")
    assert detail.status_code == 403 and BANK_ACCOUNT not in text(detail)
    assert client.get(bank_doc_url(org)).status_code == 403


def test_with_the_right_code_the_invitee_joins_and_sees_the_organisation(client, org, leader, sent_code):
    inv = invite(org, leader)
    user = sign_up(client)

    response = client.post(f"/me/orgs/invitations/{inv.pk}/accept/", {"code": sent_code(MOBILE)}, follow=True)

    assert f"您已加入 {org.name}。" in text(response)
    assert BANK_ACCOUNT in text(response)
    assert Membership.objects.get(organisation=org, user=user).role == Membership.Role.CONTACT
    inv = Invitation.objects.get(pk=inv.pk)
    assert inv.status == Invitation.Status.ACCEPTED and inv.accepted_at is not None
    logs = list(StateLog.objects.for_(inv).order_by("pk").values_list("transition", "state", "by", "description"))
    assert logs == [("create", "pending", leader.pk, "发出邀请"), ("accept", "accepted", user.pk, "已验证139****6666")]
    assert client.get(bank_doc_url(org)).status_code == 200


def test_the_text_message_names_the_organisation_and_the_code_is_not_stored(org, leader, sent_code):
    inv = invite(org, leader)
    [message] = sms.outbox
    assert message.to == MOBILE and org.name in message.body and "项目联系人" in message.body
    code = sent_code(MOBILE)
    row = the_code(inv)
    assert code not in row.code_hash and len(row.code_hash) == 64
    assert row.expires_at - row.created_at == datetime.timedelta(minutes=10)


def test_five_wrong_codes_lock_it_even_against_the_right_one(org, leader, sent_code):
    inv = invite(org, leader)
    invitee = applicant(mobile=MOBILE)
    code = sent_code(MOBILE)
    wrong = "111111" if code != "111111" else "222222"
    for left in (4, 3, 2, 1):
        with pytest.raises(verification.VerificationError, match=f"还可以再试{left}次"):
            services.invitation_accept(invitation=inv, by=invitee, code=wrong)
    with pytest.raises(verification.VerificationError, match="验证码输错次数过多"):
        services.invitation_accept(invitation=inv, by=invitee, code=wrong)
    with pytest.raises(verification.VerificationError, match="验证码输错次数过多，已失效。请重新获取验证码。"):
        services.invitation_accept(invitation=inv, by=invitee, code=code)
    assert the_code(inv).attempts == verification.MAX_ATTEMPTS
    assert not Membership.objects.filter(user=invitee).exists()

    # a new code (after the resend interval) works
    VerificationCode.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    services.invitation_send_code(invitation=inv, by=invitee)
    services.invitation_accept(invitation=inv, by=invitee, code=sent_code(MOBILE))
    assert Membership.objects.filter(organisation=org, user=invitee).exists()


def test_an_expired_code_is_refused(org, leader, sent_code):
    inv = invite(org, leader)
    invitee = applicant(mobile=MOBILE)
    VerificationCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(verification.VerificationError, match="验证码已过期"):
        services.invitation_accept(invitation=inv, by=invitee, code=sent_code(MOBILE))
    assert not Membership.objects.filter(user=invitee).exists()


def test_a_code_for_one_invitation_cannot_accept_another(org, leader, sent_code, regions):
    other, other_leader = organisation_with_leader(region=regions["fenghuang"], name="另一家组织")
    first = invite(org, leader)
    code_for_first = sent_code(MOBILE)
    second = invite(other, other_leader)
    invitee = applicant(mobile=MOBILE)

    VerificationCode.objects.filter(scope=second.verification_scope).update(
        code_hash=the_code(first).code_hash  # even a hash copied from the first does not carry over
    )
    with pytest.raises(verification.VerificationError, match="验证码不正确"):
        services.invitation_accept(invitation=second, by=invitee, code=code_for_first)
    assert not Membership.objects.filter(user=invitee, organisation=other).exists()

    services.invitation_accept(invitation=first, by=invitee, code=code_for_first)
    assert Membership.objects.filter(user=invitee, organisation=org).exists()
    assert Invitation.objects.get(pk=second.pk).status == Invitation.Status.PENDING


def test_only_the_addressee_may_ask_for_a_code_or_open_the_page(client, org, leader):
    inv = invite(org, leader)
    intruder = applicant()
    with pytest.raises(PermissionDenied, match="该邀请不是发给您的"):
        services.invitation_send_code(invitation=inv, by=intruder)
    with pytest.raises(PermissionDenied):
        services.invitation_accept(invitation=inv, by=AnonymousUser(), code="123456")
    client.force_login(intruder)
    assert client.get(f"/me/orgs/invitations/{inv.pk}/").status_code == 403
    assert client.post(f"/me/orgs/invitations/{inv.pk}/code/").status_code == 403
    assert len(sms.outbox) == 1  # only the one sent with the invitation


def test_resending_is_rate_limited(client, org, leader):
    inv = invite(org, leader)
    client.force_login(applicant(mobile=MOBILE))
    response = client.post(f"/me/orgs/invitations/{inv.pk}/code/", follow=True)
    assert "验证码刚刚已发送，请" in text(response) and "秒后再重新获取。" in text(response)
    assert len(sms.outbox) == 1

    for _ in range(verification.SENDS_PER_HOUR_PER_SCOPE - 1):
        VerificationCode.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=2))
        response = client.post(f"/me/orgs/invitations/{inv.pk}/code/", follow=True)
        assert "验证码已发送至 139****6666，10分钟内有效。" in text(response)
    VerificationCode.objects.update(created_at=timezone.now() - datetime.timedelta(minutes=2))
    response = client.post(f"/me/orgs/invitations/{inv.pk}/code/", follow=True)
    assert "获取验证码的次数过多，请1小时后再试。" in text(response)
    assert len(sms.outbox) == verification.SENDS_PER_HOUR_PER_SCOPE


def test_an_invitation_by_email_is_proven_by_a_code_sent_by_email(org, leader, sent_code):
    invitee = applicant(mobile="13977778888", email="finance@example.org")
    inv = invite(org, leader, mobile="", email="Finance@Example.org", role=Membership.Role.FINANCE)
    assert [m.to for m in mail.outbox] == [["finance@example.org"]] and not sms.outbox
    assert list(services.pending_invitations_for(invitee)) == [inv]
    services.invitation_accept(invitation=inv, by=invitee, code=sent_code("finance@example.org"))
    assert Membership.objects.get(user=invitee).role == Membership.Role.FINANCE


def test_the_same_number_is_not_invited_twice_while_waiting(org, leader):
    invite(org, leader)
    with pytest.raises(ValidationError, match="已向该手机号（邮箱）发出邀请"):
        invite(org, leader, role=Membership.Role.FINANCE)
    assert org.invitations.count() == 1


def _age(inv, days):
    Invitation.objects.filter(pk=inv.pk).update(created_at=timezone.now() - datetime.timedelta(days=days))


def test_an_invitation_expires_after_14_days_and_its_code_no_longer_joins(client, org, leader, sent_code):
    inv = invite(org, leader)
    user = sign_up(client)
    code = sent_code(MOBILE)
    _age(inv, 15)

    response = client.post(f"/me/orgs/invitations/{inv.pk}/accept/", {"code": code})

    assert response.status_code == 403
    assert "该邀请已过期（发出后14天内有效）" in text(response) and org.name in text(response)
    assert not Membership.objects.filter(organisation=org, user=user).exists()
    assert Invitation.objects.get(pk=inv.pk).status == Invitation.Status.PENDING
    assert not services.pending_invitations_for(user).exists()  # gone from the dashboard
    assert client.get(f"/me/orgs/invitations/{inv.pk}/").status_code == 403


def test_on_its_last_day_an_invitation_still_joins(client, org, leader, sent_code):
    inv = invite(org, leader)
    user = sign_up(client)
    _age(inv, 13)
    client.post(f"/me/orgs/invitations/{inv.pk}/accept/", {"code": sent_code(MOBILE)})
    assert Membership.objects.filter(organisation=org, user=user).exists()


def test_the_same_number_can_be_invited_again_once_the_first_expired(org, leader):
    first = invite(org, leader)
    _age(first, 15)
    second = invite(org, leader, role=Membership.Role.FINANCE)
    first = Invitation.objects.get(pk=first.pk)
    assert first.status == Invitation.Status.WITHDRAWN
    assert StateLog.objects.for_(first).latest("pk").description == "邀请已过期，重新发出邀请"
    assert list(org.invitations.live()) == [second]


# ---- defect 12: staff attach a 负责人 to an organisation without members ------------------------


def attach_url(org) -> str:
    return f"/admin/orgs/review/{org.pk}/attach-leader/"


@pytest.fixture
def imported(regions):
    """An organisation from a register import: no members."""
    return OrganisationFactory(region=regions["fenghuang"])


@pytest.fixture
def manager(regions):
    return staff(Role.CALL_MANAGER, regions["echeng"], name="民政王")


def test_staff_attach_a_leader_who_proves_the_mobile(client, imported, manager, sent_code):
    client.force_login(manager)
    review = client.get(f"/admin/orgs/review/{imported.pk}/")
    assert f'href="{attach_url(imported)}"' in review.content.decode()  # offered where it is missing
    page = client.get(attach_url(imported))
    assert page.status_code == 200 and "负责人手机号" in text(page)

    response = client.post(attach_url(imported), {"mobile": "139-5555-6666"}, follow=True)
    assert "已向 139****6666 发送验证码。" in text(response)
    inv = imported.invitations.get()
    assert (inv.mobile, inv.role, inv.by_staff, inv.invited_by) == (MOBILE, Membership.Role.LEADER, True, manager)
    assert "民政王" in text(response) and MOBILE in text(response)  # the record: who attached whom, when
    [log] = StateLog.objects.for_(inv)
    assert (log.by, log.description) == (manager, "工作人员指定负责人：139****6666")
    assert not imported.memberships.exists()

    client.logout()
    person = sign_up(client, username="fuzeren")
    client.post(f"/me/orgs/invitations/{inv.pk}/accept/", {"code": sent_code(MOBILE)})

    assert Membership.objects.get(organisation=imported).user == person
    assert Membership.objects.get(organisation=imported).role == Membership.Role.LEADER
    assert Notification.objects.filter(recipient=manager, title=f"{imported.name} 的负责人已确认").exists()


def test_attaching_again_withdraws_the_earlier_attachment(imported, manager):
    first = services.member_attach_leader(org=imported, by=manager, mobile="13911112222")
    second = services.member_attach_leader(org=imported, by=manager, mobile=MOBILE)
    assert Invitation.objects.get(pk=first.pk).status == Invitation.Status.WITHDRAWN
    assert Invitation.objects.get(pk=second.pk).status == Invitation.Status.PENDING
    holder = applicant(mobile="13911112222")
    with pytest.raises(PermissionDenied):
        services.invitation_accept(invitation=first, by=holder, code="123456")


def test_an_organisation_with_members_gets_no_attached_leader(client, org, manager):
    with pytest.raises(ValidationError, match="该组织已有成员"):
        services.member_attach_leader(org=org, by=manager, mobile=MOBILE)
    client.force_login(manager)
    response = client.post(attach_url(org), {"mobile": MOBILE})
    assert response.status_code == 400 and "已有成员。新成员由组织的负责人在组织页面邀请" in text(response)
    assert not org.invitations.exists() and not sms.outbox


def test_a_bad_number_is_refused_and_kept(client, imported, manager):
    client.force_login(manager)
    response = client.post(attach_url(imported), {"mobile": "1234"})
    assert response.status_code == 400 and "请输入11位中国大陆手机号码" in text(response)
    assert 'value="1234"' in text(response)
    assert not imported.invitations.exists()


def test_attach_leader_permissions_from_the_outside(client, imported, regions):
    auditor = staff(Role.AUDITOR, regions["echeng"])  # may look, may not verify
    elsewhere = staff(Role.CALL_MANAGER, regions["huarong"])  # verifies, another district
    member = applicant()

    response = client.get(attach_url(imported))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.post(attach_url(imported), {"mobile": MOBILE}).status_code == 302

    client.force_login(member)
    assert client.post(attach_url(imported), {"mobile": MOBILE}).status_code == 302  # no admin access

    client.force_login(auditor)
    response = client.post(attach_url(imported), {"mobile": MOBILE})
    assert response.status_code == 403 and "您无权为该组织指定负责人" in text(response)

    client.force_login(elsewhere)
    assert client.get(attach_url(imported)).status_code == 404
    assert client.post(attach_url(imported), {"mobile": MOBILE}).status_code == 404
    with pytest.raises(PermissionDenied, match="组织须在您负责的区域内"):
        services.member_attach_leader(org=imported, by=elsewhere, mobile=MOBILE)

    assert not imported.invitations.exists() and not sms.outbox
