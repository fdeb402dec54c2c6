"""CSV import of participants, enrolments and events: all-or-nothing, idempotent, in bulk.

The file formats are described in docs/import-formats.md.
"""
