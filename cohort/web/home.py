"""The signed-in user's home page."""

from __future__ import annotations

from typing import Any

from flask import g, render_template

from cohort.auth import ALL_ROLES, allow
from cohort.web.blueprint import bp


@bp.route("/")
@allow(*ALL_ROLES)
def home() -> Any:
    return render_template("home.html", actor=g.actor)
