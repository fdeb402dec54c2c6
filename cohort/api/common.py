"""Schemas and helpers shared by the API blueprints."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app
from marshmallow import fields, validate
from sqlalchemy.orm import Session

from cohort.schemas.common import StrictSchema, one_of

__all__ = ["DEPARTEMENTS", "PageArgs", "PageSchema", "StrictSchema", "one_of", "paginate"]


class PageArgs(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1, max=500))


class PageSchema(ma.Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


def paginate(session: Session, query: sa.Select[Any], args: dict[str, Any]) -> dict[str, Any]:
    """One page of a select, with the total; page size bounded by settings."""
    per_page = min(args.get("per_page") or current_app.config["PAGE_SIZE_DEFAULT"],
                   current_app.config["PAGE_SIZE_MAX"])
    page = args.get("page", 1)
    total = session.execute(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    ).scalar_one()
    items = session.execute(query.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return {"items": items, "page": {"page": page, "per_page": per_page, "total": total}}


DEPARTEMENTS = validate.OneOf(["59", "62", "joint"])
