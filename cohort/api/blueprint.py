"""The REST layer's Blueprint: flask-smorest's, with query strings as strict as bodies.

webargs ignores unknown query parameters by default, so ``?acton=62-A2`` (a typo) would
silently answer for every action. Here every location defers to the schema, and our input
schemas refuse unknown fields with a 422 naming them.
"""

from __future__ import annotations

import flask_smorest
from webargs.flaskparser import FlaskParser


class StrictParser(FlaskParser):
    DEFAULT_UNKNOWN_BY_LOCATION = dict.fromkeys(FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION)


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = StrictParser()
