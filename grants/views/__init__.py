"""Applicant-facing and public pages of grants: proposals (the 申报 portal), needs."""
