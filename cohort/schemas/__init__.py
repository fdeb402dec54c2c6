"""marshmallow input schemas shared by the API, the CSV import and the web UI."""
