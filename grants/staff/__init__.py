"""Staff screens of grants inside the Wagtail admin: calls (a ModelViewSet), the proposal
list and a proposal's page with its eligibility actions, needs moderation."""
