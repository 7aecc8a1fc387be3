"""Forms, one module per stage (calls, needs, proposals, eligibility)."""
