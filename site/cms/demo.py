"""seed_demo's step for the public site (portal.demo): the page tree, the default Site and
a few news items (新闻动态), dated from today so the demo always reads as current."""

import datetime

from django.utils import timezone
from wagtail import hooks

from .models import NewsIndexPage, NewsPage
from .setup import ensure_site

# (slug, days before today, title, summary, paragraphs); {year} is today's year
DEMO_NEWS = [
    (
        "city-call-launched",
        10,
        "鄂州市{year}年公益创投项目征集正式启动",
        "市民政局发布{year}年公益创投项目征集公告，面向全市登记或备案的社会组织征集为老、助残、"
        "青少年、社区治理等领域的公益服务项目，申报期30天。",
        [
            "为进一步激发社会组织活力、满足群众多样化服务需求，鄂州市民政局近日发布《鄂州市{year}年公益创投项目征集公告》，"
            "面向全市依法登记或备案的社会组织征集公益服务项目。",
            "本次征集重点支持为老服务、困境儿童关爱、残疾人服务、社区治理和志愿服务等领域，单个项目资助额度最高8万元，"
            "申请资助金额不超过项目总预算的70%。项目须回应经审核公开的社区需求，优先支持在孵化基地孵化的社会组织。",
            "申报采用网上办理，社会组织登录本平台即可在线填报、上传材料和查看审查结果，无需提交纸质材料。"
            "申报截止后，市民政局将组织资格审查和专家评审，评审结果在本网站公示。",
        ],
    ),
    (
        "liangzihu-results",
        12,
        "梁子湖区“生态梁子湖”公益创投项目立项结果公布",
        "经资格审查、专家评审和7天公示，梁子湖区{year}年“生态梁子湖”公益创投项目立项结果正式公布，"
        "5个项目获得资助，覆盖空巢老人探访、留守儿童关爱和困难家庭帮扶。",
        [
            "梁子湖区{year}年“生态梁子湖”公益创投项目经资格审查、专家评审、立项公示等环节，立项结果已正式公布。",
            "公示期间，区民政局受理并核实了群众提出的异议，核实情况已在公示页面说明。获得立项的社会组织将与区民政局签订"
            "资助协议，项目资金按协议分期拨付，首期资金在协议签订后拨付。",
            "各项目的实施进度、中期评估和末期评估结果将在“资助项目”栏目持续公开，欢迎社会各界监督。",
        ],
    ),
    (
        "fenghuang-needs",
        35,
        "凤凰街道开展“民呼我应”社区需求征集",
        "凤凰街道通过网格员走访和线上提交，收集辖区居民在助餐、托管、探访等方面的需求，"
        "审核后公开的需求将作为公益创投项目申报的依据。",
        [
            "为让公益创投项目更贴近群众需要，凤凰街道组织各社区网格员入户走访，同时开通线上需求提交渠道，"
            "居民不需要注册账号，用手机一分钟即可提交身边的需求。",
            "截至目前，街道已收到独居老人助餐、“四点半课堂”、空巢老人探访等需求，经工作人员核实后在“社区需求”栏目公开。"
            "社会组织申报项目时可直接引用这些需求，评审时将重点考察项目与需求的契合度。",
        ],
    ),
    (
        "incubator-graduation",
        48,
        "市社会组织孵化基地举行出壳评估会",
        "市社会组织孵化基地对孵化期满的社会组织开展出壳评估，评估内容包括组织治理、财务管理、服务成效和登记备案情况。",
        [
            "市社会组织孵化基地近日举行出壳评估会，邀请高校专家、资深社工和街道代表组成评估组，"
            "对孵化期满的社会组织逐一开展评估。",
            "评估组从组织治理、财务规范、服务成效和登记备案情况四个方面进行综合评议。通过评估的组织正式出壳，"
            "将继续获得基地在项目申报、人才培训等方面的跟踪支持；未通过的组织可申请续驻一次。",
        ],
    ),
    (
        "midterm-training",
        70,
        "公益创投项目财务管理与中期评估培训会召开",
        "市民政局组织在实施公益创投项目的社会组织开展培训，讲解项目资金使用范围、进度报告填报和中期评估要求。",
        [
            "为规范公益创投项目资金使用，市民政局组织全市在实施项目的社会组织负责人和财务人员参加培训。",
            "培训围绕资金使用范围、不得列支事项、进度报告在线填报和中期评估指标展开，并对常见问题进行了解答。"
            "项目资金实行分期拨付，中期评估通过后方可拨付后续资金。",
        ],
    ),
]


def ensure_demo_news(index: NewsIndexPage, today: datetime.date) -> int:
    """The demo news under `index`, each published once (a second run adds nothing)."""
    existing = set(NewsPage.objects.child_of(index).values_list("slug", flat=True))
    made = 0
    for slug, days_ago, title, summary, paragraphs in DEMO_NEWS:
        if slug in existing:
            continue
        year = today.year
        page = NewsPage(
            title=title.format(year=year),
            slug=slug,
            date=today - datetime.timedelta(days=days_ago),
            summary=summary.format(year=year),
            body="".join(f"<p>{p.format(year=year)}</p>" for p in paragraphs),
        )
        index.add_child(instance=page)
        page.save_revision(log_action=False).publish(log_action=False)
        made += 1
    return made


@hooks.register("register_demo_step", order=20)
def demo_step() -> dict:
    ensure_site()
    index = NewsIndexPage.objects.first()
    if index is not None:
        ensure_demo_news(index, timezone.localdate())
        count = NewsPage.objects.child_of(index).live().count()
        return {"summary": f"新闻 {count} 条"}
    return {}
