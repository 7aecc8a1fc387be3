"""Calls, proposals, review, funding and evaluation (公益创投). Built by the calls issue."""
