"""Domain errors → HTTP responses, mapped once for both shells.

On ``/api/`` a refusal is the JSON envelope ``{code, status, message[, errors], reason}``;
anywhere else it is the French error page. A page that expects a refusal (a form) catches
it and shows it next to the fields; what reaches these handlers is what no page expected.
Every 403, and every 404 that hides a participant out of scope, is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, g, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from cohort import audit, clock
from cohort.actors import Actor, Role
from cohort.errors import CohortError, Forbidden
from cohort.request_db import sessions
from cohort.services.access import refused_target

API_PREFIX = "/api/"

FRENCH_ERRORS = {
    400: "La requête n'a pas pu être traitée (formulaire expiré ou incomplet).",
    403: "Vous n'avez pas accès à cette page.",
    404: "Cette page n'existe pas ou ne vous est pas accessible.",
    405: "Cette action n'est pas possible ici.",
    413: "L'envoi est trop volumineux.",
    429: "Trop de tentatives : réessayez dans une minute.",
    500: "Une erreur inattendue s'est produite.",
}


def wants_json() -> bool:
    """Whether this request is the API's (JSON answers) rather than a page's."""
    return request.path.startswith(API_PREFIX)


def html_error(status: int, error: Exception | None = None) -> Any:
    """French HTML error page for everything outside /api (the HTTP error's headers kept,
    e.g. Allow on a 405)."""
    message = FRENCH_ERRORS.get(status, "La requête n'a pas abouti.")
    headers = dict(error.get_headers()) if isinstance(error, HTTPException) else {}
    headers.pop("Content-Type", None)
    return render_template("error.html", status=status, message=message), status, headers


def error_body(status: int, message: str,
               errors: dict[str, Any] | None = None) -> dict[str, Any]:
    """The API's error envelope (the shape flask-smorest gives its own errors)."""
    body: dict[str, Any] = {"code": status, "status": HTTP_STATUS_CODES.get(status, "Error"),
                            "message": message}
    if errors:
        body["errors"] = errors
    return body


def json_error(error: CohortError) -> Any:
    """A domain error as the API answers it: the fields under ``errors.json``, the cause in
    ``reason``."""
    body = error_body(error.status, error.message,
                      {"json": error.errors} if error.errors else None)
    body["reason"] = error.code
    body.update(error.details)
    return jsonify(body), error.status


def domain_error(error: CohortError) -> Any:
    """A domain error no view caught: audited when it refuses access, then answered."""
    target = refused_target(error)
    if target is not None or isinstance(error, Forbidden):
        audit_refusal(error.message, *(target or (None, None)))
    if not wants_json():
        return html_error(error.status)
    return json_error(error)


def refused(status: int, message: str) -> Any:
    """Answer a request refused before its view ran (401/403): the API says why, a page
    sends an anonymous visitor to the sign-in form and back."""
    if status == 403:
        audit_refusal(message)
    if wants_json():
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        return jsonify(error_body(status, message)), status, headers
    if status == 401:
        back = request.full_path.rstrip("?") if request.method == "GET" else None
        return redirect(url_for("web.login", suite=back) if back and back != "/"
                        else url_for("web.login"))
    return html_error(status)


def audit_refusal(reason: str, target_type: str | None = None,
                  target_id: str | None = None) -> None:
    """Write a refused access to the audit log in its own transaction.

    The request's own transaction is rolled back first: on SQLite it holds the write lock
    (BEGIN IMMEDIATE) even when it only read, and the audit entry would wait for it until
    the busy timeout, then fail."""
    pending = g.get("cohort_session")
    if pending is not None:
        pending.rollback()
    actor = g.get("actor") or Actor(role=Role.SYSTEM)
    with sessions()() as s, s.begin():
        audit.append(s, actor, "access.refused", now=clock.now(), outcome="refused",
                     target_type=target_type, target_id=target_id,
                     details={"path": request.path, "method": request.method,
                              "reason": reason})


def init_app(app: Flask, *, http_errors: Callable[[HTTPException], Any]) -> None:
    """Install the handlers; ``http_errors`` answers werkzeug's HTTP errors (the API's
    handler, which gives pages their French page)."""
    app.register_error_handler(CohortError, domain_error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        if isinstance(error, HTTPException):
            return http_errors(error)
        app.logger.exception("unhandled error on %s", request.path)
        if not wants_json():
            return html_error(500)
        return jsonify(error_body(500, "an unexpected error occurred")), 500
