"""The incubation documents as Chinese A4 PDFs, through the Foundation's PDF service
(core.pdf.render_pdf, templates extending core/pdf/base.html):

- 入驻协议 (residence agreement), once the organisation is admitted: the two parties, the
  residence and the period, the base's rules (screening, assessments, hand-back within
  its working days) and both sides' obligations as numbered clauses, signature blocks;
- 出壳证书 (graduation certificate), once it has graduated: certificate-style, landscape.

Both are made from the records alone, so the same document comes out every time."""

from django.http import Http404

from core.pdf import chinese_date, render_pdf

from .models import BaseService, Incubation, IncubationStatus, Residence

CN_NUMERALS = "一二三四五六七八九十"


def has_agreement(incubation: Incubation) -> bool:
    return bool(incubation.agreement_no and incubation.starts_on)


def has_certificate(incubation: Incubation) -> bool:
    return incubation.status == IncubationStatus.GRADUATED and bool(incubation.certificate_no)


def operator_name(base) -> str:
    if base.operator_org_id and base.operator_unit:
        return f"{base.operator_org.name}（{base.operator_unit}）"
    return base.operator_org.name if base.operator_org_id else base.operator_unit


def organisation_identity(org) -> tuple[str, str]:
    """(label, value) of the organisation's identifier as the agreement states it."""
    if org.uscc:
        return "统一社会信用代码", org.uscc
    if org.filing_number:
        return "备案编号", org.filing_number
    return "登记状态", "筹备中（尚未登记或备案）"


def _services_text(base) -> str:
    labels = [BaseService(s).label for s in base.services if s in BaseService.values]
    return "、".join(labels) or "场地"


def agreement_context(incubation: Incubation) -> dict:
    base, org = incubation.base, incubation.organisation
    id_label, id_value = organisation_identity(org)
    desk = incubation.residence == Residence.DESK
    residence = Residence(incubation.residence).label if incubation.residence else "—"
    period = f"{chinese_date(incubation.starts_on)}至{chinese_date(incubation.ends_on)}"
    clauses = [
        (
            "入驻方式与场地",
            [
                f"乙方以“{residence}”方式入驻甲方"
                + (
                    f"，使用{incubation.desk_label}，仅用于乙方开展公益服务和日常办公。"
                    if desk
                    else "，可使用甲方公共区域和预约使用活动场地。"
                ),
                "乙方不得将场地转借、转租他人，不得擅自改变场地用途或装修改造。",
            ],
        ),
        (
            "孵化期限",
            [
                f"孵化期自{period}止，共{base.period_months}个月。",
                "孵化期满经出壳评估合格的，准予出壳；确需延长的，乙方可于期满前申请续驻一次，经甲方同意后另行约定截止日期。",
            ],
        ),
        (
            "甲方的权利和义务",
            [
                f"为乙方提供{_services_text(base)}等孵化服务，并如实记录每次服务。",
                "在入壳、中期和出壳时组织能力评估，向乙方反馈评估结果和改进建议。",
                "对乙方孵化期间提交的材料和信息保密，未经乙方同意不向第三方提供。",
                "对表现突出的乙方，可向上一级孵化基地推荐继续孵化。",
            ],
        ),
        (
            "乙方的权利和义务",
            [
                "遵守国家法律法规和甲方管理制度，不得以甲方名义开展活动或对外作出承诺。",
                "按入驻申请书所列计划开展公益服务，按时参加甲方组织的培训、督导和评估。",
                "孵化期间未登记的，应在甲方指导下积极办理登记或备案手续。",
                "爱护场地设施，做好安全、消防和卫生工作，造成损失的照价赔偿。",
            ],
        ),
        (
            "评估与出壳",
            [
                "能力评估从治理结构、财务管理、项目管理、团队建设、资源拓展五个维度评分，满分100分。",
                f"出壳须同时满足：已完成登记或备案；治理结构健全；至少独立运作一个项目；"
                f"最近一次能力评估不低于{base.graduation_min_score.normalize():f}分。出壳时由甲方颁发出壳证书。",
            ],
        ),
        (
            "退驻",
            [
                "乙方可书面申请退驻；乙方严重违反本协议或连续三个月未开展活动的，甲方可办理退驻。",
                f"退驻后，实体入驻的乙方应在{base.handback_days}个工作日内清理个人物品、交还场地和钥匙。",
            ],
        ),
        (
            "其他",
            [
                "本协议未尽事宜，由双方协商解决；协商不成的，提请甲方上级主管部门协调。",
                "本协议一式两份，甲乙双方各执一份，自双方签字（盖章）之日起生效。",
            ],
        ),
    ]
    return {
        "title": "社会组织孵化基地入驻协议",
        "doc_number": f"协议编号：{incubation.agreement_no}",
        "issued_on": incubation.starts_on,
        "incubation": incubation,
        "base": base,
        "org": org,
        "operator_name": operator_name(base),
        "id_label": id_label,
        "id_value": id_value,
        "residence_label": residence,
        "period": period,
        "applied_on": chinese_date(incubation.applied_on),
        "screened_on": chinese_date(incubation.screened_on) if incubation.screened_on else "",
        "signed_on": chinese_date(incubation.starts_on),
        "clauses": [
            {"number": f"第{CN_NUMERALS[i]}条", "heading": heading, "items": items}
            for i, (heading, items) in enumerate(clauses)
        ],
    }


def certificate_context(incubation: Incubation) -> dict:
    org = incubation.organisation
    registered = "并在孵化期间完成登记，" if incubation.registered_during else ""
    return {
        "title": "出壳证书",
        "doc_number": f"证书编号：{incubation.certificate_no}",
        "issued_on": incubation.graduated_on,
        "incubation": incubation,
        "base": incubation.base,
        "org": org,
        "starts_on": chinese_date(incubation.starts_on),
        "graduated_on": chinese_date(incubation.graduated_on),
        "registered": registered,
    }


def agreement_pdf(incubation: Incubation) -> bytes:
    if not has_agreement(incubation):
        raise Http404("该入驻记录尚未签订入驻协议。")
    return render_pdf("incubator/pdf/agreement.html", agreement_context(incubation))


def certificate_pdf(incubation: Incubation) -> bytes:
    if not has_certificate(incubation):
        raise Http404("该组织尚未出壳，没有出壳证书。")
    return render_pdf("incubator/pdf/certificate.html", certificate_context(incubation))
