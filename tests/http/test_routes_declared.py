"""Deny by default: every route of the application declares the roles it allows."""

from __future__ import annotations

from typing import Any

from cohort.auth import endpoint_roles


def test_every_route_declares_its_roles(app: Any) -> None:
    undeclared = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"OPTIONS"}):
            if endpoint_roles(app, rule.endpoint, view, method) is None:
                undeclared.append(f"{method} {rule.rule}")
    assert undeclared == []


def test_an_undeclared_route_is_refused(app: Any) -> None:
    @app.route("/forgotten")
    def forgotten() -> str:
        return "should never be served"

    response = app.test_client().get("/forgotten")
    assert response.status_code == 403
    assert b"should never be served" not in response.data
