"""Who may change which of an organisation's documents.

The legal documents (登记证书, 章程, 备案证明 and the others the registration rests on)
are changed only by the people who answer for the organisation: the 负责人 and the 项目联系人.
The 财务 keeps the bank documents, the one thing their role is about."""

from .models import DocumentKind, Membership

R = Membership.Role

FINANCIAL_DOCUMENTS = (DocumentKind.BANK_PROOF,)
UPLOAD_ROLES = {
    kind: (R.LEADER, R.CONTACT, R.FINANCE) if kind in FINANCIAL_DOCUMENTS else (R.LEADER, R.CONTACT)
    for kind in DocumentKind
}
UPLOAD_RULE = "登记证书、章程、备案证明等法定材料只能由负责人或项目联系人上传；财务只能上传银行开户证明。"


def uploadable_kinds(role: str | None) -> list[str]:
    """The document kinds a member with `role` may upload, in DocumentKind order."""
    return [kind.value for kind in DocumentKind if role in UPLOAD_ROLES[kind]]


def may_upload(role: str | None, kind: str) -> bool:
    return kind in uploadable_kinds(role)


def upload_rule_for(role: str | None) -> str:
    """The sentence the upload form shows: what this member may upload, and why."""
    if role == R.FINANCE:
        return "您在本组织的角色是“财务”，只能上传银行开户证明；登记证书、章程、备案证明等法定材料由负责人或项目联系人上传。"
    return UPLOAD_RULE
