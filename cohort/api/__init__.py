"""REST API v1 (flask-smorest): parse with a schema, call one service, dump the result."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import swagger_ui_bundle
from flask import Blueprint as FlaskBlueprint
from flask import (
    Flask,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_smorest import Api
from flask_smorest.error_handler import ErrorSchema as FlaskSmorestErrorSchema
from werkzeug.exceptions import HTTPException

from cohort import clock
from cohort.actors import Role
from cohort.auth import public
from cohort.errors import CohortError, Forbidden


class ErrorSchema(FlaskSmorestErrorSchema):  # type: ignore[misc]
    """The error body as documented in OpenAPI (it is built by the handlers below)."""

    reason = ma.fields.String(metadata={"description": "Machine-readable cause of a refusal "
                                                       "(e.g. rejected, ineligible, conflict)"})


class CohortApi(Api):  # type: ignore[misc]
    """flask-smorest's JSON error handler drops werkzeug's headers (e.g. Allow on 405)."""

    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Any:
        if not request.path.startswith("/api/"):
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


FRENCH_ERRORS = {
    400: "La requête n'a pas pu être traitée (formulaire expiré ou incomplet).",
    403: "Vous n'avez pas accès à cette page.",
    404: "Cette page n'existe pas ou ne vous est pas accessible.",
    405: "Cette action n'est pas possible ici.",
    413: "L'envoi est trop volumineux.",
    429: "Trop de tentatives : réessayez dans une minute.",
    500: "Une erreur inattendue s'est produite.",
}


def html_error(status: int, error: Exception | None = None) -> Any:
    """French HTML error page for everything outside /api."""
    message = FRENCH_ERRORS.get(status, "La requête n'a pas abouti.")
    headers = dict(error.get_headers()) if isinstance(error, HTTPException) else {}
    headers.pop("Content-Type", None)
    return render_template("error.html", status=status, message=message), status, headers


def _error_body(status: int, name: str, message: str, errors: dict[str, Any] | None) -> Any:
    body: dict[str, Any] = {"code": status, "status": name, "message": message}
    if errors:
        body["errors"] = errors
    return body


def init_api(app: Flask) -> CohortApi:
    from cohort.api import (
        enrolments,
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
                  indicators, reports)
    for module in blueprints:
        api.register_blueprint(module.blp)

    # Serve Swagger UI's files ourselves: the docs work offline and under a strict CSP.
    static = FlaskBlueprint("swagger_static", __name__)

    @static.route("/api/v1/docs/static/<path:filename>")
    @public
    def swagger_file(filename: str) -> Any:
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)

    app.register_blueprint(static)
    _declare_public_docs(app)
    from cohort.web import csrf

    for module in blueprints:
        csrf.exempt(module.blp)  # bearer tokens only on /api: no ambient credential

    @app.errorhandler(CohortError)
    def _domain_error(error: CohortError) -> Any:
        from cohort.services.access import refused_target

        target = refused_target(error)
        if target is not None or isinstance(error, Forbidden):
            audit_refusal(error.message, *(target or (None, None)))
        if not request.path.startswith("/api/"):
            return html_error(error.status)  # pages handle expected refusals themselves
        names = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
                 422: "Unprocessable Entity"}
        body = _error_body(error.status, names.get(error.status, "Error"), error.message,
                           {"json": error.errors} if error.errors else None)
        body["reason"] = error.code
        return jsonify(body), error.status

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        if isinstance(error, HTTPException):
            return api.handle_http_exception(error)
        app.logger.exception("unhandled error on %s", request.path)
        if not request.path.startswith("/api/"):
            return html_error(500)
        return jsonify(_error_body(500, "Internal Server Error",
                                   "an unexpected error occurred", None)), 500

    return api


def _declare_public_docs(app: Flask) -> None:
    """The OpenAPI document and the docs page describe the API: no secret in them."""
    public_endpoints = app.extensions.setdefault("cohort.public_endpoints", set())
    public_endpoints.update(e for e in app.view_functions if e.startswith("api-docs."))


def audit_refusal(reason: str, target_type: str | None = None,
                  target_id: str | None = None) -> None:
    """Write a refused access to the audit log in its own transaction.

    The request's own transaction is rolled back first: on SQLite it holds the write lock
    (BEGIN IMMEDIATE) even when it only read, and the audit entry would wait for it until
    the busy timeout, then fail."""
    from cohort import audit
    from cohort.actors import Actor
    from cohort.request_db import sessions

    pending = g.get("cohort_session")
    if pending is not None:
        pending.rollback()
    actor = g.get("actor") or Actor(role=Role.SYSTEM)
    with sessions()() as s, s.begin():
        audit.append(s, actor, "access.refused", now=clock.now(), outcome="refused",
                     target_type=target_type, target_id=target_id,
                     details={"path": request.path, "method": request.method,
                              "reason": reason})


def refused(status: int, message: str) -> Any:
    """Answer a request refused before its view ran (401/403)."""
    if status == 403:
        audit_refusal(message)
    if request.path.startswith("/api/"):
        names = {401: "Unauthorized", 403: "Forbidden"}
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        return jsonify(_error_body(status, names[status], message, None)), status, headers
    if status == 401:
        back = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("web.login", suite=back) if back and back != "/"
                        else url_for("web.login"))
    return html_error(status)
