"""Every non-trivial read of grants, one module per stage (needs, linkage …)."""
