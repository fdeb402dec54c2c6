"""REST API v1 (flask-smorest): parse with a schema, call one service, dump the result.

Input schemas come from ``cohort.schemas``; domain errors are answered by
``cohort.shell.errors`` (the same mapping the pages use).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
import swagger_ui_bundle
from flask import Blueprint as FlaskBlueprint
from flask import Flask, send_from_directory
from flask_smorest import Api
from flask_smorest.error_handler import ErrorSchema as FlaskSmorestErrorSchema
from werkzeug.exceptions import HTTPException

from cohort.auth import public
from cohort.shell.errors import html_error, wants_json


class ErrorSchema(FlaskSmorestErrorSchema):  # type: ignore[misc]
    """The error body as documented in OpenAPI (built by cohort.shell.errors)."""

    reason = ma.fields.String(metadata={"description": "Machine-readable cause of a refusal "
                                                       "(e.g. rejected, ineligible, conflict)"})


class CohortApi(Api):  # type: ignore[misc]
    """flask-smorest's JSON error handler drops werkzeug's headers (e.g. Allow on 405)."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        if not wants_json():
            return html_error(error.code or 500, error)
        payload, code, headers = super().handle_http_exception(error)
        if isinstance(payload, dict) and "message" not in payload:
            fields = sorted({name for location in payload.get("errors", {}).values()
                             if isinstance(location, dict) for name in location})
            payload["message"] = (f"invalid input: {', '.join(fields)}" if fields
                                  else str(payload.get("status", "error")))
        headers = dict(headers or {})
        for key, value in error.get_headers():
            if key.lower() != "content-type":
                headers.setdefault(key, value)
        return payload, code, headers


def init_api(app: Flask, *, no_csrf: Callable[[Any], object]) -> CohortApi:
    """Register the API's blueprints and its docs; ``no_csrf`` exempts each blueprint from the
    pages' CSRF check (given by the app factory, so that this shell needs not know the
    pages')."""
    from cohort.api import (
        caseload,
        data_quality,
        duplicates,
        enrolments,
        erasure_requests,
        events,
        followups,
        indicators,
        links,
        participants,
        programmes,
        reports,
        structures,
    )

    app.config.update(
        API_TITLE="cohort",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="/api/v1/docs/static/",
    )
    api = CohortApi(app)
    blueprints = (participants, enrolments, events, structures, programmes, links, followups,
                  indicators, reports, data_quality, caseload, erasure_requests)
    for module in blueprints:
        api.register_blueprint(module.blp)
    for extra in duplicates.BLUEPRINTS:
        api.register_blueprint(extra)

    # Serve Swagger UI's files ourselves: the docs work offline and under a strict CSP.
    static = FlaskBlueprint("swagger_static", __name__)

    @static.route("/api/v1/docs/static/<path:filename>")
    @public
    def swagger_file(filename: str) -> Any:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    app.register_blueprint(static)
    _declare_public_docs(app)
    for module in blueprints:
        no_csrf(module.blp)  # bearer tokens only on /api: no ambient credential
    for extra in duplicates.BLUEPRINTS:
        no_csrf(extra)
    return api


def _declare_public_docs(app: Flask) -> None:
    """The OpenAPI document and the docs page describe the API: no secret in them."""
    public_endpoints = app.extensions.setdefault("cohort.public_endpoints", set())
    public_endpoints.update(e for e in app.view_functions if e.startswith("api-docs."))
