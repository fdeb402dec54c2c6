"""What the HTTP shells (``cohort.api`` and ``cohort.web``) share, so that neither imports
the other: the domain error → response mapping (JSON envelope on /api, French pages
elsewhere), the audit of refusals, and pagination."""
