"""Staff screens for the registry inside the Wagtail admin."""
