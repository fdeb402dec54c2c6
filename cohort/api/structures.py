"""Structures (Mission Locale, PLIE, ...) and operations (clause sites, crèche projects...)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields

from cohort import clock
from cohort.actors import Role
from cohort.api.blueprint import Blueprint
from cohort.api.programmes import ActionSchema
from cohort.api.schemas import PageSchema
from cohort.auth import ALL_ROLES, allow, current_actor
from cohort.models import Operation, Structure
from cohort.request_db import session, transaction
from cohort.schemas.common import DecimalText, StrictSchema
from cohort.schemas.structures import (
    OperationCreateSchema,
    OperationListArgs,
    OperationUpdateSchema,
    StructureCreateSchema,
    StructureListArgs,
    StructureUpdateSchema,
)
from cohort.services import programmes, structures
from cohort.services.lookup import by_uuid
from cohort.shell.pagination import paginate

blp = Blueprint("structures", __name__, url_prefix="/api/v1",
                description="Structures and operations")


class StructureSchema(StrictSchema):
    id = fields.UUID(attribute="uuid", dump_only=True)
    name = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    departement = fields.String(dump_only=True)


class StructurePage(StrictSchema):
    items = fields.List(fields.Nested(StructureSchema))
    page = fields.Nested(PageSchema)


class OperationSchema(StrictSchema):
    id = fields.UUID(attribute="uuid", dump_only=True)
    code = fields.String(dump_only=True, allow_none=True, metadata={
        "description": "The code partners' files name it by (unique when given)"})
    action_id = fields.UUID(attribute="action_uuid", dump_only=True)
    kind = fields.String(dump_only=True)
    label = fields.String(dump_only=True)
    start_date = fields.Date(dump_only=True)
    end_date = fields.Date(dump_only=True, allow_none=True)
    planned_hours = DecimalText(dump_only=True, allow_none=True)
    structure_id = fields.UUID(attribute="structure_uuid", dump_only=True, allow_none=True)
    planned_hours_set_by = fields.UUID(dump_only=True, allow_none=True, metadata={
        "description": "the user who last set the planned hours"})
    planned_hours_set_at = fields.AwareDateTime(dump_only=True, allow_none=True)


class OperationPage(StrictSchema):
    items = fields.List(fields.Nested(OperationSchema))
    page = fields.Nested(PageSchema)


@blp.route("/structures")
class Structures(MethodView):
    @allow(*ALL_ROLES)
    @blp.arguments(StructureListArgs, location="query")
    @blp.response(200, StructurePage)
    def get(self, args: dict[str, Any]) -> Any:
        """List structures"""
        query = structures.structure_list_query(args)
        return paginate(session(), query, args)

    @allow(Role.ADMIN)
    @blp.arguments(StructureCreateSchema)
    @blp.response(201, StructureSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create a structure"""
        with transaction() as s:
            return structures.create_structure(s, current_actor(), data, now=clock.now())


@blp.route("/structures/<uuid:structure_id>")
class StructureItem(MethodView):
    @allow(*ALL_ROLES)
    @blp.response(200, StructureSchema)
    def get(self, structure_id: Any) -> Any:
        """Read a structure"""
        return by_uuid(session(), Structure, structure_id, "structure_id")

    @allow(Role.ADMIN)
    @blp.arguments(StructureUpdateSchema)
    @blp.response(200, StructureSchema)
    def patch(self, data: dict[str, Any], structure_id: Any) -> Any:
        """Update a structure"""
        with transaction() as s:
            structure = by_uuid(s, Structure, structure_id, "structure_id")
            return structures.update_structure(s, current_actor(), structure, data,
                                               now=clock.now())


@blp.route("/structures/<uuid:structure_id>/actions")
class StructureActions(MethodView):
    @allow(*ALL_ROLES)
    @blp.response(200, ActionSchema(many=True))
    def get(self, structure_id: Any) -> Any:
        """List the actions the structure may enrol people into: those of its département or
        joint, that its kind runs (an administrator may force any other)"""
        s = session()
        structure = by_uuid(s, Structure, structure_id, "structure_id")
        return programmes.actions_for_enrolment(s, structure)


@blp.route("/operations")
class Operations(MethodView):
    @allow(*ALL_ROLES)
    @blp.arguments(OperationListArgs, location="query")
    @blp.response(200, OperationPage)
    def get(self, args: dict[str, Any]) -> Any:
        """List operations, optionally of one action"""
        return paginate(session(), structures.list_operations(action_uuid=args.get("action_id")),
                        args)

    @allow(Role.COORDINATOR, Role.PILOT, Role.ADMIN)
    @blp.arguments(OperationCreateSchema)
    @blp.response(201, OperationSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Create an operation (a clause site, a crèche project, a housing partner...)"""
        with transaction() as s:
            return structures.create_operation(s, current_actor(), data, now=clock.now())


@blp.route("/operations/<uuid:operation_id>")
class OperationItem(MethodView):
    @allow(*ALL_ROLES)
    @blp.response(200, OperationSchema)
    def get(self, operation_id: Any) -> Any:
        """Read an operation"""
        return by_uuid(session(), Operation, operation_id, "operation_id")

    @allow(Role.COORDINATOR, Role.PILOT, Role.ADMIN)
    @blp.arguments(OperationUpdateSchema)
    @blp.response(200, OperationSchema)
    def patch(self, data: dict[str, Any], operation_id: Any) -> Any:
        """Update an operation"""
        with transaction() as s:
            operation = by_uuid(s, Operation, operation_id, "operation_id")
            return structures.update_operation(s, current_actor(), operation, data,
                                              now=clock.now())


