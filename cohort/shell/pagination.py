"""One page of a select, for the API's lists and the pages' lists alike."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session


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
