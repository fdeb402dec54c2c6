"""Pages: alerts (being built)."""

from cohort.web.blueprint import bp  # noqa: F401
