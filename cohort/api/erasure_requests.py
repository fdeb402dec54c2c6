"""Erasure requests awaiting a second administrator (four-eyes), and their decision."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields

from cohort import clock
from cohort.actors import Role
from cohort.api.blueprint import Blueprint
from cohort.api.participants import ErasureRequestSchema, ErasureSchema
from cohort.api.schemas import PageSchema
from cohort.auth import allow, current_actor
from cohort.request_db import checkpoint, ledger_path, session, transaction
from cohort.schemas.common import StrictSchema
from cohort.schemas.participants import ErasureDecisionSchema, ErasureRequestListArgs
from cohort.services import erasure_requests
from cohort.shell.pagination import paginate

blp = Blueprint("erasure_requests", __name__, url_prefix="/api/v1/erasure-requests",
                description="Erasures asked by one administrator, decided by another")


class ErasureRequestPage(StrictSchema):
    items = fields.List(fields.Nested(ErasureRequestSchema))
    page = fields.Nested(PageSchema)


class ApprovedSchema(StrictSchema):
    request = fields.Nested(ErasureRequestSchema)
    erasure = fields.Nested(ErasureSchema, allow_none=True)


@blp.route("")
class ErasureRequests(MethodView):
    @allow(Role.ADMIN)
    @blp.arguments(ErasureRequestListArgs, location="query")
    @blp.response(200, ErasureRequestPage)
    def get(self, args: dict[str, Any]) -> Any:
        """List erasure requests (pending ones by default), oldest first"""
        status = None if args["status"] == "all" else args["status"]
        return paginate(session(), erasure_requests.request_list_query(status), args)


@blp.route("/<uuid:request_id>/approve")
class ErasureApprove(MethodView):
    @allow(Role.ADMIN)
    @blp.arguments(ErasureDecisionSchema)
    @blp.response(200, ApprovedSchema)
    def post(self, data: dict[str, Any], request_id: Any) -> Any:
        """Approve a colleague's request: the erasure is carried out (never one's own)"""
        with transaction() as s:
            erasure = erasure_requests.approve(s, current_actor(), request_id, now=clock.now(),
                                               ledger=ledger_path())
            request = erasure_requests.by_id(s, request_id)
        checkpoint()
        return {"request": request, "erasure": erasure}


@blp.route("/<uuid:request_id>/reject")
class ErasureReject(MethodView):
    @allow(Role.ADMIN)
    @blp.arguments(ErasureDecisionSchema)
    @blp.response(200, ErasureRequestSchema)
    def post(self, data: dict[str, Any], request_id: Any) -> Any:
        """Reject a colleague's request, saying why"""
        with transaction() as s:
            return erasure_requests.reject(s, current_actor(), request_id,
                                           reason=data["reason"], now=clock.now())
