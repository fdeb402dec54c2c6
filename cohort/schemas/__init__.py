"""The only home of input schemas (marshmallow, one module per subject), shared by the API,
the web pages, the CSV import and the CLI. Response schemas the API alone uses stay in
``cohort.api``."""
