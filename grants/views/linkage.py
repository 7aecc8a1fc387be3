"""The organisation's side of 三级联动 (/me/proposals/recommendations/): each recommendation
of its proposals to an upper call, with the reason, the lower call's score and check
result, and whether the organisation may apply there now (and why not); the 负责人 or
项目联系人 accepts (the proposal is copied into the upper call as a draft, nothing
retyped) or declines. And the /me/ panel, shown while a recommendation waits."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST
from wagtail import hooks

from core.dashboard import APPLICANT_PANEL_HOOK, PortalPanel
from core.errors import UserError
from core.ui import error_text

from ..forms.linkage import DeclineForm
from ..models import RecommendationState
from ..selectors.linkage import recommendations_for_member, with_standing
from ..services.linkage import recommendation_accept, recommendation_decline


@login_required
def recommendations(request):
    rows = with_standing(recommendations_for_member(request.user), request.user)
    return render(request, "grants/linkage/recommendations.html", {"recommendations": rows, "form": DeclineForm()})


def _own(request, pk):
    rec = recommendations_for_member(request.user).filter(pk=pk).first()
    if rec is None:
        raise Http404("没有这条推荐。")
    return rec


@login_required
@require_POST
def accept(request, pk):
    rec = _own(request, pk)
    try:
        draft = recommendation_accept(recommendation=rec, by=request.user)
    except (UserError, ValidationError, PermissionDenied) as exc:
        messages.error(request, f"未能转入“{rec.to_call}”：{error_text(exc)}")
        return redirect("grants:recommendations")
    messages.success(request, f"已转入“{rec.to_call}”，申报书内容已全部带入，请核对后提交。")
    return redirect(draft.get_absolute_url())


@login_required
@require_POST
def decline(request, pk):
    rec = _own(request, pk)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
        return redirect("grants:recommendations")
    try:
        recommendation_decline(recommendation=rec, by=request.user, reason=form.cleaned_data["reason"])
    except (UserError, ValidationError, PermissionDenied) as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, f"已答复不参加“{rec.to_call}”。")
    return redirect("grants:recommendations")


class RecommendationsPanel(PortalPanel):
    """/me/: the recommendations waiting for the organisation's answer."""

    template_name = "grants/linkage/panel.html"

    def __init__(self, pending):
        self.pending = pending

    def panel_context(self, request):
        return {"pending": self.pending}


@hooks.register(APPLICANT_PANEL_HOOK, order=15)
def recommendations_panel(request):
    pending = list(recommendations_for_member(request.user).filter(state=RecommendationState.PENDING)[:5])
    return RecommendationsPanel(pending) if pending else None


urlpatterns = [
    path("recommendations/", recommendations, name="recommendations"),
    path("recommendations/<int:pk>/accept/", accept, name="recommendation_accept"),
    path("recommendations/<int:pk>/decline/", decline, name="recommendation_decline"),
]
