"""The words the demo and the volume are made of: service themes (brands in the style of
seed 001: 老宝贝, 小候鸟, 海马爸比), people's and organisations' names, the reasons staff
give, and builders of a proposal's sections, budget lines (within a call's rules, by
grants.rules), activities, KPIs and team. grants.demo writes a few proposals with them
through the services; the volume thousands in bulk, so a benchmark database reads like
the demo."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from .. import rules


@dataclass(frozen=True)
class Theme:
    brands: tuple  # project brands, as community projects are named (seed 001)
    services: tuple  # what a project does: the rest of its title
    affected: str  # who it serves
    activities: tuple
    indicator: tuple  # the headline KPI: (indicator, unit)
    needs: tuple  # needs residents raise: (title, what is asked)
    org: str  # the word an organisation of this field carries in its name
    service: str  # what such an organisation does


THEMES = {
    "elderly": Theme(
        ("老宝贝", "夕阳红", "银龄", "幸福食堂", "暖心陪伴"),
        ("长者助餐陪伴计划", "独居老人关爱行动", "居家养老互助项目", "老年人防跌倒守护计划"),
        "独居、空巢及高龄老人",
        ("长者助餐", "入户探访", "健康讲座", "集体生日会", "智能手机课堂"),
        ("服务老人", "人"),
        (
            ("独居老人助餐", "小区独居、高龄老人做饭不便，希望有固定的助餐点或送餐服务。"),
            ("空巢老人定期探访", "子女不在身边的老人缺少陪伴，希望有志愿者定期上门看望。"),
            ("老年人智能手机培训", "老人不会用手机挂号、扫码、视频通话，希望有人手把手教。"),
        ),
        "为老",
        "居家养老和老年人关爱",
    ),
    "children": Theme(
        ("小候鸟", "海马爸比", "四点半课堂", "向日葵", "童心"),
        ("留守儿童陪伴计划", "亲子成长营", "放学后托管服务", "暑期安全课堂"),
        "留守、流动及双职工家庭儿童",
        ("课业辅导", "亲子活动", "安全教育", "自然观察", "绘本共读"),
        ("服务儿童", "人"),
        (
            ("放学后“四点半课堂”", "双职工家庭的孩子下午四点半放学后无人照看，希望社区有托管和课业辅导。"),
            ("暑期儿童安全教育", "暑假孩子在家时间长，防溺水、防电信诈骗的安全教育不够。"),
            ("留守儿童心理陪伴", "父母外出务工的孩子缺少陪伴和倾诉对象。"),
        ),
        "青少年",
        "儿童青少年成长和家庭教育",
    ),
    "women": Theme(
        ("巾帼", "她力量", "木兰", "花开"),
        ("妇女就业技能提升计划", "家庭关系调适项目", "女性健康守护行动"),
        "待业妇女和单亲母亲",
        ("技能培训", "互助小组", "健康筛查", "创业分享"),
        ("服务妇女", "人"),
        (
            ("待业妇女技能培训", "小区里有不少带孩子的妈妈想就近就业，希望有家政、电商等技能培训。"),
            ("妇女“两癌”筛查宣传", "中老年妇女对“两癌”筛查了解少，希望开展健康讲座和筛查动员。"),
        ),
        "妇女",
        "妇女发展和家庭服务",
    ),
    "new_residents": Theme(
        ("新市民", "同城", "融家", "邻里通"),
        ("新居民融入计划", "外来务工家庭服务项目", "新鄂州人互助行动"),
        "新迁入居民和外来务工人员",
        ("融入茶话会", "政策宣讲", "邻里节", "子女托管"),
        ("服务新居民", "人"),
        (
            ("新居民融入", "新建小区住户大多刚搬来，彼此不认识，也不了解社区的服务和办事渠道。"),
            ("外来务工子女入学咨询", "外来务工家庭不清楚子女入学、社保办理流程，希望有集中咨询。"),
        ),
        "新市民",
        "新居民融入和外来务工人员服务",
    ),
    "disabled": Theme(
        ("同心", "星星", "阳光", "有爱无碍"),
        ("残障人士康复陪伴计划", "心智障碍者就业支持项目", "助残喘息服务"),
        "残障人士及其家庭",
        ("康复训练", "家属喘息", "技能培训", "融合活动"),
        ("服务残障人士", "人"),
        (("残障人士居家康复", "行动不便的残障人士去康复机构困难，希望有上门康复指导。"),),
        "助残",
        "残障人士康复和就业支持",
    ),
    "poverty": Theme(
        ("暖冬", "微心愿", "爱心粮仓", "携手"),
        ("困难家庭帮扶计划", "低保边缘户关爱行动", "困境儿童助学项目"),
        "低保、低边及困境家庭",
        ("入户走访", "物资链接", "助学辅导", "就业指导"),
        ("帮扶家庭", "户"),
        (("困难家庭冬季帮扶", "低保和低边家庭冬季取暖、过冬物资有困难。"),),
        "慈善",
        "困难群体帮扶",
    ),
    "central_work": Theme(
        ("绿水", "清河卫士", "文明劝导", "红色物业"),
        ("巡河护湖志愿行动", "垃圾分类督导计划", "文明城市创建宣传项目", "老旧小区治理议事会"),
        "社区居民",
        ("巡河护湖", "入户宣传", "议事协商", "志愿服务"),
        ("参与居民", "人"),
        (
            ("垃圾分类督导", "小区垃圾分类投放不规范，希望有志愿者在投放点值守和入户宣传。"),
            ("老旧小区停车议事", "老旧小区停车乱、矛盾多，希望有人组织居民协商解决。"),
        ),
        "社区",
        "社区治理和志愿服务",
    ),
}
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = (
    "建国",
    "红梅",
    "晓燕",
    "志强",
    "文华",
    "敏",
    "丽",
    "伟",
    "静",
    "磊",
    "洋",
    "芳",
    "娟",
    "军",
    "勇",
    "艳",
    "杰",
    "涛",
)
GIVEN += ("明", "超", "秀英", "桂兰", "海燕", "春梅", "玉兰", "子涵", "雨欣", "浩然", "思远", "佳怡", "俊杰", "婷婷")
ORG_WORDS = (
    "明德",
    "仁爱",
    "启航",
    "益家",
    "同行",
    "和美",
    "善邻",
    "乐活",
    "新禾",
    "晨曦",
    "暖阳",
    "众益",
    "惠民",
    "安康",
)
ORG_WORDS += (
    "博爱",
    "知行",
    "融和",
    "悦心",
    "恒善",
    "聚力",
    "春晖",
    "立德",
    "心桥",
    "爱邻",
    "长青",
    "蒲公英",
    "彩虹",
    "和风",
)
RETURN_REASONS = (
    "预算明细中“活动物料”单价测算依据不足，请补充测算说明。",
    "实施方案未写明各项活动的具体时间和地点，请补充。",
    "绩效指标“服务满意度”缺少衡量方式，请补充问卷或回访办法。",
    "团队成员缺少持证社工，请补充项目社工的资质说明。",
    "自筹资金来源不明确，请写明出资单位并上传承诺函。",
)
INELIGIBLE_REASONS = (
    "申报单位上一年度年检结果为“基本合格”，不符合本次征集的申报条件。",
    "申报项目的服务地点不在本次征集区域内。",
    "申报项目与该组织正在实施的政府购买服务项目内容重复。",
    "申请资助金额占总预算比例超过本次征集规定。",
)
TEAM_ROLES = (
    ("项目社工", "助理社会工作师，从事社区服务3年"),
    ("财务", "会计从业经验5年"),
    ("志愿者队长", "社区志愿服务队骨干，累计志愿服务800小时"),
    ("督导", "中级社会工作师，高校社会工作专业讲师"),
)
# (item, unit, smallest and largest quantity); self-funded lines carry their own category
LINE_ITEMS = {
    "personnel": (("项目社工补贴", "月", 6, 12), ("专业督导费", "次", 4, 12)),
    "activity": (("活动物料", "场", 10, 40), ("志愿者交通餐费补贴", "人次", 100, 400), ("专业讲师课酬", "课时", 8, 24)),
    "publicity": (("宣传折页与海报印制", "份", 500, 2000), ("项目成果汇编", "册", 50, 200)),
    "admin": (("项目管理费", "项", 1, 1),),
    "tax": (("税费", "项", 1, 1),),
}
SELF_ITEMS = (
    ("other", "场地（社区党群服务中心提供）", "月", 6, 12),
    ("activity", "志愿服务折算", "小时", 200, 800),
    ("activity", "爱心企业配套物资", "批", 1, 3),
)


# the comments reviewers write, by how good they found the proposal
REVIEW_COMMENTS = {
    "high": (
        "需求调研扎实，有入户走访和问卷数据支撑；活动设计与目标一一对应，团队有同类项目经验，建议优先资助。",
        "项目回应了社区居民提出的真实需求，服务对象明确，志愿者队伍稳定，成效指标可测，预算合理。",
        "方案成熟，前期已有试点基础，社区居委会支持到位；建议在结项时总结可复制的做法。",
    ),
    "mid": (
        "需求清楚，设计基本合理；预算中活动物料单价偏高，建议压缩并补充测算依据。",
        "项目有一定基础，但目标偏多，部分活动与目标对应不够紧密，建议聚焦核心服务。",
        "团队有热情，专业社工力量偏弱，建议与辖区社工站合作，完善风险应对措施。",
    ),
    "low": (
        "需求分析较笼统，缺少调研数据；目标与活动对应关系不清，可行性存疑。",
        "预算结构不合理，人员费用占比接近上限而活动经费不足，受益人数测算依据不足。",
        "与社区已有服务重复较多，创新性不足，项目结束后如何持续没有说明。",
    ),
}
PITCH_COMMENTS = (
    "陈述清楚，团队分工明确，对评委提问回应到位。",
    "展示有感染力，但对经费使用的追问回答不够具体。",
    "团队熟悉服务对象，答辩坦诚，建议补充项目结束后的延续安排。",
)


def theme(code: str) -> Theme:
    return THEMES.get(code) or THEMES["central_work"]


def person(rng) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def _line(rng, category, amount, source="grant", template=None) -> dict:
    item, unit, lo, hi = template or rng.choice(LINE_ITEMS[category])
    quantity = Decimal(rng.randint(lo, hi))
    return {
        "category": category,
        "item": item,
        "unit": unit,
        "quantity": quantity,
        "unit_price": (Decimal(amount) / quantity).quantize(rules.CENT),
        "source": source,
        "nature": "normal",
        "note": "" if unit == "项" else f"{quantity:f}{unit}，按实际发生结算",
    }


def budget_lines(rng, call, *, breaks: bool = False) -> list[dict]:
    """3–8 budget lines within the call's money rules (or, with `breaks`, a grant share
    above its maximum, as a draft still being worked on may have)."""
    # a margin of 1% inside the limits: each line's unit price is rounded to the fen
    low = int(call.grant_min) // 99 + 1
    grant = Decimal(rng.randint(low, max(low, int(call.grant_max) // 101)) * 100)
    top = int(call.max_grant_share)
    share = rng.randint(top + 3, min(95, top + 15)) if breaks else rng.randint(max(10, min(40, top - 12)), top - 2)
    total = grant * 100 / share
    cap = max(11, int(call.max_personnel_share) - 3)
    personnel = min(grant / 2, total * rng.randint(10, cap) / 100)
    extras = [
        (c, p) for c, p, odds in (("publicity", 5, 0.5), ("admin", 4, 0.4), ("tax", 2, 0.2)) if rng.random() < odds
    ]
    rest = grant - personnel - sum(grant * p / 100 for _, p in extras)
    lines = [_line(rng, "personnel", personnel)] + [_line(rng, c, grant * p / 100) for c, p in extras]
    n = rng.randint(1, 3)
    for template in rng.sample(LINE_ITEMS["activity"], n):
        lines.append(_line(rng, "activity", rest / n, template=template))
    self_total, own = total - grant, rng.sample(SELF_ITEMS, rng.randint(1, 2 if len(lines) < 7 else 1))
    for category, *template in own:
        lines.append(_line(rng, category, self_total / len(own), "self", template=tuple(template)))
    return lines


def proposal_fields(rng, th: Theme, place: str, *, title: str = "") -> dict:
    """The written sections of a proposal about `th` in `place`."""
    n, acts = rng.randrange(60, 400), rng.sample(th.activities, 3)
    need_title, need_text = rng.choice(th.needs)
    return {
        "title": title or f"{rng.choice(th.brands)}·{place}{rng.choice(th.services)}"[:60],
        "beneficiaries_direct": n,
        "beneficiaries_indirect": n * rng.randint(2, 5),
        "summary": f"面向{place}{th.affected}，开展{acts[0]}、{acts[1]}等服务，预计直接服务{n}人。",
        "need_analysis": (
            f"{place}现有{th.affected}约{n * 2}人。{need_text}经入户走访和问卷调查（回收问卷{rng.randrange(80, 300)}份），"
            f"{rng.randrange(60, 90)}%的受访者希望获得{need_title}方面的服务。"
        ),
        "objectives": (
            f"项目周期内为{n}名{th.affected}提供服务，开展活动不少于{rng.randrange(12, 60)}场，"
            f"服务满意度达到90%以上；培育一支{rng.randrange(10, 40)}人的志愿者队伍，项目结束后持续运作。"
        ),
        "approach": f"一是{acts[0]}；二是{acts[1]}；三是{acts[2]}。专职社工统筹，志愿者协助，每月召开一次项目例会。",
        "risks": "志愿者流失：建立积分激励和培训制度；参与率低：提前入户动员，与网格员联动；安全风险：活动前检查场地并购买保险。",
    }


def activity_rows(rng, th: Theme, start: datetime.date, end: datetime.date) -> list[dict]:
    months = max(1, (end.year - start.year) * 12 + end.month - start.month + 1)
    n = rng.randint(2, 6)
    return [
        {
            "name": name,
            "month": start + relativedelta(months=i * months // n),
            "content": f"{name}：每月{rng.randint(1, 4)}次，每次{rng.randint(15, 40)}人参加，社工带领、志愿者协助。",
            "sessions": rng.randint(2, 24),
        }
        for i, name in enumerate(rng.choices(th.activities, k=n))
    ]


def kpi_rows(rng, th: Theme, direct: int) -> list[dict]:
    rows = [
        (th.indicator[0], direct, th.indicator[1], "签到表与服务记录"),
        ("开展活动", rng.randrange(12, 60), "场", "活动照片与记录"),
        ("服务对象满意度", 90, "%", "问卷调查"),
        ("培育志愿者", rng.randrange(10, 40), "名", "志愿者登记表"),
    ][: rng.randint(2, 4)]
    return [{"indicator": i, "target": Decimal(t), "unit": u, "method": m} for i, t, u, m in rows]


def team_rows(rng, leader, leader_name: str) -> list[dict]:
    leader_row = {
        "user": leader,
        "name": leader_name,
        "role": "项目负责人",
        "qualifications": "中级社会工作师，从事社区服务8年",
    }
    others = rng.sample(TEAM_ROLES, rng.randint(1, 3))
    return [leader_row] + [{"user": None, "name": person(rng), "role": r, "qualifications": q} for r, q in others]
