"""Possible duplicates at registration, link requests and the duplicates report.

A coordinator's answer about a candidate followed elsewhere is one flag: no id, no name,
no structure (domain.md §1). Link requests name the other record server-side only.
The queue and the report are for administrators.
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields

from cohort import clock
from cohort.actors import Role
from cohort.api.blueprint import Blueprint
from cohort.api.schemas import PageSchema
from cohort.auth import allow, current_actor
from cohort.models import Participant
from cohort.request_db import keyring, session, transaction
from cohort.schemas.common import StrictSchema
from cohort.schemas.link_requests import (
    AcceptSchema,
    DismissalSchema,
    DuplicatesArgs,
    LinkRequestCreateSchema,
    LinkRequestListArgs,
    PossibleDuplicatesSchema,
    RejectSchema,
)
from cohort.services import administration, duplicate_report, link_requests, registration
from cohort.services.lookup import by_uuid
from cohort.shell.limits import limited

possible_blp = Blueprint("possible_duplicates", __name__, url_prefix="/api/v1/participants",
                         description="Possible duplicates of an identity about to be "
                                     "registered")
requests_blp = Blueprint("link_requests", __name__, url_prefix="/api/v1/link-requests",
                         description="Requests to link two records, reviewed by "
                                     "administrators")
report_blp = Blueprint("duplicates", __name__, url_prefix="/api/v1/duplicates",
                       description="Pairs of participants who may be one person "
                                   "(administrators)")
BLUEPRINTS = (possible_blp, requests_blp, report_blp)


class EnrolmentBriefSchema(StrictSchema):
    action_code = fields.String(dump_only=True)
    action_title = fields.String(dump_only=True)
    start_date = fields.Date(dump_only=True)
    end_date = fields.Date(dump_only=True, allow_none=True)


class KnownSchema(StrictSchema):
    id = fields.UUID(attribute="participant_uuid", dump_only=True)
    last_name = fields.String(dump_only=True)
    first_names = fields.String(dump_only=True)
    birth_date = fields.Date(dump_only=True)
    holds_nir = fields.Boolean(dump_only=True)
    enrolments = fields.List(fields.Nested(EnrolmentBriefSchema), dump_only=True)


class SuggestionsSchema(StrictSchema):
    followed_here = fields.List(fields.Nested(KnownSchema), attribute="known", dump_only=True,
                                metadata={"description": "Candidates your structure follows"})
    close_record_elsewhere = fields.Boolean(attribute="elsewhere", dump_only=True, metadata={
        "description": "A close record is followed by another structure only: register "
                       "anyway and file a link request"})
    nir_held_elsewhere = fields.Boolean(attribute="nir_elsewhere", dump_only=True, metadata={
        "description": "The NIR is held by a record followed elsewhere: register without "
                       "it and file a link request with it"})
    detection = fields.Boolean(dump_only=True, metadata={
        "description": "False when duplicate detection is off (no similarity key)"})


@possible_blp.route("/possible-duplicates")
class PossibleDuplicates(MethodView):
    @allow(Role.COORDINATOR, Role.ADMIN)
    @limited("lookup")
    @possible_blp.arguments(PossibleDuplicatesSchema)
    @possible_blp.response(200, SuggestionsSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Possible duplicates of an identity, as far as need-to-know allows (audited)"""
        with transaction() as s:
            return registration.suggestions(s, keyring(), current_actor(), data,
                                            now=clock.now())


class FiledSchema(StrictSchema):
    """What the requester sees of their request: never the other record."""

    id = fields.UUID(attribute="uuid", dump_only=True)
    status = fields.String(dump_only=True)
    cause = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class LinkRequestSchema(StrictSchema):
    id = fields.UUID(dump_only=True)
    status = fields.String(dump_only=True)
    cause = fields.String(dump_only=True)
    reason = fields.String(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    participant_id = fields.UUID(dump_only=True, metadata={
        "description": "The record the requesting structure registered"})
    candidate_id = fields.UUID(dump_only=True, metadata={
        "description": "The record it may duplicate"})
    structure = fields.String(dump_only=True)
    decided_at = fields.DateTime(dump_only=True, allow_none=True)
    decision_reason = fields.String(dump_only=True, allow_none=True)


class LinkRequestPage(StrictSchema):
    items = fields.List(fields.Nested(LinkRequestSchema), dump_only=True)
    page = fields.Nested(PageSchema, dump_only=True)


def _request_body(row: Any) -> dict[str, Any]:
    request, participant_uuid, candidate_uuid, structure = row
    return {"id": request.uuid, "status": request.status, "cause": request.cause,
            "reason": request.reason, "created_at": request.created_at,
            "participant_id": participant_uuid, "candidate_id": candidate_uuid,
            "structure": structure, "decided_at": request.decided_at,
            "decision_reason": request.decision_reason}


@requests_blp.route("")
class LinkRequests(MethodView):
    @allow(Role.COORDINATOR, Role.ADMIN)
    @requests_blp.arguments(LinkRequestCreateSchema)
    @requests_blp.response(201, FiledSchema)
    @requests_blp.alt_response(200, schema=FiledSchema,
                               description="The same request was already pending")
    def post(self, data: dict[str, Any]) -> Any:
        """Ask that a participant your structure registered be linked with the close record
        followed elsewhere (or with the holder of the NIR refused at registration)"""
        with transaction() as s:
            participant = by_uuid(s, Participant, data["participant_id"], "participant_id")
            filed = link_requests.file_request(s, keyring(), current_actor(), participant,
                                               reason=data["reason"], nir=data["nir"],
                                               now=clock.now())
        return filed.request, 201 if filed.created else 200

    @allow(Role.ADMIN)
    @requests_blp.arguments(LinkRequestListArgs, location="query")
    @requests_blp.response(200, LinkRequestPage)
    def get(self, args: dict[str, Any]) -> Any:
        """The link requests (pending by default), oldest first"""
        per_page = args.get("per_page") or 50
        page = administration.page_of(session(), link_requests.request_list_query(
            args["status"]), page=args["page"], per_page=per_page, rows=True)
        return {"items": [_request_body(row) for row in page.items],
                "page": {"page": page.page, "per_page": page.per_page, "total": page.total}}


@requests_blp.route("/<uuid:request_id>/accept")
class AcceptLinkRequest(MethodView):
    @allow(Role.ADMIN)
    @requests_blp.arguments(AcceptSchema)
    @requests_blp.response(200, FiledSchema)
    def post(self, data: dict[str, Any], request_id: Any) -> Any:
        """Accept: the requester's record is linked into the other (idempotent)"""
        with transaction() as s:
            return link_requests.accept(s, current_actor(), request_id,
                                        reason=data["reason"], now=clock.now())


@requests_blp.route("/<uuid:request_id>/reject")
class RejectLinkRequest(MethodView):
    @allow(Role.ADMIN)
    @requests_blp.arguments(RejectSchema)
    @requests_blp.response(200, FiledSchema)
    def post(self, data: dict[str, Any], request_id: Any) -> Any:
        """Reject, saying why (idempotent)"""
        with transaction() as s:
            return link_requests.reject(s, current_actor(), request_id,
                                        reason=data["reason"], now=clock.now())


class PairOutSchema(StrictSchema):
    first_id = fields.UUID(attribute="first_uuid", dump_only=True)
    second_id = fields.UUID(attribute="second_uuid", dump_only=True)
    first_birth_month = fields.String(dump_only=True)
    second_birth_month = fields.String(dump_only=True)
    kinds = fields.List(fields.String(), dump_only=True,
                        metadata={"description": "The similarity keys they truly share"})


class ReportPageSchema(StrictSchema):
    items = fields.List(fields.Nested(PairOutSchema), dump_only=True)
    next = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "Pass as `after` for the next page; null when the report is done"})


class DismissalOutSchema(StrictSchema):
    id = fields.UUID(attribute="uuid", dump_only=True)
    dismissed_at = fields.DateTime(dump_only=True)


@report_blp.route("")
class Duplicates(MethodView):
    @allow(Role.ADMIN)
    @report_blp.arguments(DuplicatesArgs, location="query")
    @report_blp.response(200, ReportPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Pairs sharing a similarity key, not linked nor dismissed (audited per page)"""
        after = duplicate_report.Cursor.parse(args["after"]) if args["after"] else None
        with transaction() as s:
            found = duplicate_report.page(s, keyring(), current_actor(), after=after,
                                          per_page=args["per_page"], now=clock.now(),
                                          min_shared=args["min_shared"])
        return {"items": found.items, "next": str(found.next) if found.next else None}


@report_blp.route("/dismissals")
class Dismissals(MethodView):
    @allow(Role.ADMIN)
    @report_blp.arguments(DismissalSchema)
    @report_blp.response(201, DismissalOutSchema)
    @report_blp.alt_response(200, schema=DismissalOutSchema,
                             description="The pair was already dismissed")
    def post(self, data: dict[str, Any]) -> Any:
        """Dismiss a pair: two people, not one (it leaves the report)"""
        with transaction() as s:
            record, created = duplicate_report.dismiss(
                s, current_actor(), data["first_id"], data["second_id"],
                reason=data["reason"], now=clock.now())
        return record, 201 if created else 200
