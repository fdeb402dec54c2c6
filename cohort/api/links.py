"""Links between duplicate participants (administrators only), and their undoing."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields

from cohort import clock
from cohort.actors import Role
from cohort.api.blueprint import Blueprint
from cohort.auth import allow, current_actor
from cohort.request_db import transaction
from cohort.schemas.common import StrictSchema
from cohort.schemas.participants import LinkCreateSchema, UnlinkSchema
from cohort.services import lifecycle

blp = Blueprint("links", __name__, url_prefix="/api/v1/links",
                description="Duplicate participants declared one person")


class LinkSchema(StrictSchema):
    id = fields.UUID(attribute="uuid", dump_only=True)
    linked_at = fields.DateTime(dump_only=True)
    unlinked_at = fields.DateTime(dump_only=True, allow_none=True)


@blp.route("")
class Links(MethodView):
    @allow(Role.ADMIN)
    @blp.arguments(LinkCreateSchema)
    @blp.response(201, LinkSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Declare two participants the same person (audited, reversible)"""
        with transaction() as s:
            return lifecycle.link(s, current_actor(), data["absorbed_id"], data["survivor_id"],
                                  reason=data["reason"], now=clock.now())


@blp.route("/<uuid:link_id>/unlink")
class Unlink(MethodView):
    @allow(Role.ADMIN)
    @blp.arguments(UnlinkSchema)
    @blp.response(200, LinkSchema)
    def post(self, data: dict[str, Any], link_id: Any) -> Any:
        """Undo a link: each participant gets their own enrolments and events back"""
        with transaction() as s:
            return lifecycle.unlink(s, current_actor(), link_id, reason=data["reason"],
                                    now=clock.now())
