"""Pages for coordinators: a person's pathway, enrolments and events (finding and
registering a person: cohort/web/registration.py).

Every rule lives in the services (scoping, eligibility, event checks, idempotency); these
views parse the form with the API's schema, call one service and render. Identity values
only ever travel in a POST body and in the response the user asked for.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError, fields, validate

from cohort import clock
from cohort.actors import Role
from cohort.auth import allow
from cohort.domain import rules
from cohort.domain.enums import EventType, Family
from cohort.domain.event_types import KINDS, Boundary
from cohort.errors import CohortError, NotFound
from cohort.models import Enrolment, Event, Participant, Structure
from cohort.request_db import keyring, session, transaction
from cohort.schemas.common import EnumOneOf
from cohort.schemas.enrolments import CancelSchema, CorrectEndSchema, EndSchema, EnrolSchema
from cohort.schemas.event_attributes import ATTRIBUTE_SCHEMAS
from cohort.schemas.events import CorrectionSchema, EventCreateSchema, VoidSchema
from cohort.schemas.participants import IdentityRequestSchema
from cohort.services import (
    access,
    enrolments,
    events,
    need_to_know,
    participants,
    programmes,
)
from cohort.services import enrolment_end as enrolment_end_service
from cohort.services.event_views import event_view
from cohort.services.lookup import by_uuid
from cohort.services.structures import list_operations
from cohort.services.timeline import timeline
from cohort.shell.limits import limited
from cohort.web.blueprint import bp
from cohort.web.forms import FormState, attempt, load, submitted
from cohort.web.labels import code_fr, field_fr
from cohort.web.messages import french_errors

PERSON_ROLES = (Role.COORDINATOR, Role.ASE_REFERENT, Role.ADMIN)
WRITER_ROLES = (Role.COORDINATOR, Role.ADMIN)
FORM_ERROR = "Le formulaire contient des erreurs : voir les champs signalés."


def _participant(participant_id: Any) -> Participant:
    return by_uuid(session(), Participant, participant_id, "participant_id")


def _render(template: str, status: int = 200, **context: Any) -> Any:
    context.setdefault("may_write", g.actor.role in WRITER_ROLES)
    return render_template(f"coordination/{template}", **context), status


# --- the participant page ------------------------------------------------------------------

def _participant_page(participant_id: Any, *, status: int = 200, identity: Any = None,
                      identity_state: FormState | None = None) -> Any:
    s = session()
    record = _participant(participant_id)
    view = timeline(s, g.actor, record, now=clock.now(), today=clock.today())
    for interval in view["intervals"]:
        interval["start_type"] = START_OF_FAMILY.get(interval["family"], "")
    return _render("participant.html", status, **view, chart=_chart(view["intervals"]),
                   identity=identity, identity_state=identity_state or FormState(),
                   event_details=event_details)


@bp.route("/personnes/<uuid:participant_id>")
@allow(*PERSON_ROLES)
def participant(participant_id: Any) -> Any:
    """A person's pseudonymous record and pathway (the service scopes: out of scope → 404)."""
    return _participant_page(participant_id)


@bp.route("/personnes/<uuid:participant_id>/identite", methods=["POST"])
@allow(*PERSON_ROLES)
@limited("identity")
def participant_identity(participant_id: Any) -> Any:
    """Show the identity in this response only, after a stated purpose (audited)."""
    data, state = load(IdentityRequestSchema(), submitted())
    if data is None:
        return _participant_page(participant_id, status=422, identity_state=state)
    with transaction() as s:
        record = _participant(participant_id)
        identity = participants.reveal_identity(s, keyring(), g.actor, record,
                                                purpose=data["purpose"], now=clock.now())
    return _participant_page(participant_id, identity=identity)


# The bars: one row per interval, x from the earliest to the latest date shown.
CHART_WIDTH = 720
CHART_LABEL = 150
CHART_ROW = 28
CHART_RIGHT = 64  # room for the "en cours" label after an open bar


def _chart(intervals: list[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Geometry of the interval bars (SVG attributes only: the CSP forbids style attributes)."""
    if not intervals:
        return None
    today = clock.today()
    first = min(iv["start_date"] for iv in intervals)
    last = max([today] + [iv["end_date"] or today for iv in intervals])
    span = max((last - first).days, 1)
    scale = (CHART_WIDTH - CHART_LABEL - CHART_RIGHT) / span
    bars = []
    for row, iv in enumerate(intervals):
        end = iv["end_date"] or today
        x = CHART_LABEL + (iv["start_date"] - first).days * scale
        bars.append({**iv, "x": round(x, 1), "y": 24 + row * CHART_ROW,
                     "width": round(max((end - iv["start_date"]).days * scale, 4), 1),
                     "open": iv["end_date"] is None})
    return {"bars": bars, "width": CHART_WIDTH, "height": 34 + len(bars) * CHART_ROW,
            "label_x": CHART_LABEL, "right": CHART_RIGHT, "first": first, "last": last}


# --- enrolment -----------------------------------------------------------------------------

@bp.route("/personnes/<uuid:participant_id>/inscription", methods=["GET", "POST"])
@allow(*WRITER_ROLES)
def enrol(participant_id: Any) -> Any:
    """Enrol in an action of the programme, for one's own structure; eligibility feedback."""
    s = session()
    record = _participant(participant_id)
    access.may_enrol(s, g.actor, record, now=clock.now())
    structure = s.get(Structure, g.actor.structure_id) if g.actor.structure_id else None
    # Only what the user's structure may enrol into; an administrator sees every action
    # (forcing one the structure does not run needs a justification).
    actions = programmes.actions_for_enrolment(
        s, None if g.actor.role is Role.ADMIN else structure)
    state = FormState(values={"start_date": clock.today().isoformat()})
    if request.method == "POST":
        form = submitted(booleans=("rsa_at_entry", "parent_child_0_3", "force"))
        if g.actor.role is not Role.ADMIN:
            form.pop("force", None)
            form.pop("force_justification", None)
        form |= {"participant_id": str(record.uuid),
                 "structure_id": str(structure.uuid) if structure else ""}
        data, state = load(EnrolSchema(), form)
        if data is not None:
            try:
                with transaction() as tx:
                    made = enrolments.enrol(tx, keyring(), g.actor, data,
                                            today=clock.today(), now=clock.now())
                    forced = made.forced
            except CohortError as error:
                state.refuse(error)  # one line per failed eligibility rule
            else:
                flash("Inscription enregistrée" + (" (entrée forcée)." if forced else "."),
                      "succes")
                return redirect(url_for("web.participant", participant_id=record.uuid))
    return _render("enrol.html", 422 if state.failed else 200, participant_id=record.uuid,
                   actions=actions, structure=structure, state=state,
                   action_choices=[(str(a.uuid), f"{a.code} — {a.title}") for a in actions],
                   intensity_actions=[a.code for a in actions
                                      if rules.needs_intensity(a.settings or {})],
                   may_force=g.actor.role is Role.ADMIN)


def _enrolment_of(participant_id: Any, enrolment_id: Any) -> Enrolment:
    enrolment = access.readable_enrolment(session(), g.actor, enrolment_id, now=clock.now())
    if enrolment.participant.uuid != participant_id:
        raise NotFound("enrolment_id: not found", errors={"enrolment_id": ["not found"]})
    return enrolment


@bp.route("/personnes/<uuid:participant_id>/accompagnements/<uuid:enrolment_id>/fin",
          methods=["GET", "POST"])
@allow(*WRITER_ROLES)
def enrolment_end(participant_id: Any, enrolment_id: Any) -> Any:
    """End an enrolment: last day of support and exit reason (optimistic lock on version),
    and, on the same form and in the same unit of work, the open periods the structure
    recorded (the others' are listed for information)."""
    enrolment = _enrolment_of(participant_id, enrolment_id)
    periods = enrolment_end_service.open_periods(session(), g.actor, enrolment.participant,
                                                 now=clock.now())
    state = FormState(values={"end_date": clock.today().isoformat(),
                              "expected_version": enrolment.version})
    closing = {str(p.start_event_id): {"id": str(uuid.uuid4())} for p in periods if p.own}
    period_errors: dict[str, list[str]] = {}
    if request.method == "POST":
        form = submitted()
        closing = _posted_closings(periods)
        chosen = [key for key, values in closing.items() if values.get("checked")]
        form = {k: v for k, v in form.items() if not k.startswith("close")}
        data, state = load(EndSchema(), form)
        body = [{"start_event_id": key, "id": closing[key]["id"],
                 **({"date": closing[key]["date"]} if closing[key].get("date") else {}),
                 "attributes": ({"reason": closing[key]["reason"]}
                                if closing[key].get("reason") else {})}
                for key in chosen]
        if data is not None:
            try:
                data["close_periods"] = EndSchema().load(
                    {**form, "close_periods": body})["close_periods"]
            except ValidationError as error:
                period_errors = _period_errors(french_errors(_dotted(error.messages)), chosen)
                state.message = FORM_ERROR
            else:
                try:
                    with transaction() as tx:
                        enrolment_end_service.end(tx, keyring(), g.actor, enrolment, data,
                                                  today=clock.today(), now=clock.now())
                except CohortError as error:
                    state.refuse(error)
                    period_errors = _period_errors(state.errors, chosen)
                    if period_errors:
                        state.message = ("Une période n'a pas pu être close (voir la ligne "
                                         "signalée) : rien n'a été enregistré.")
                else:
                    flash("L'accompagnement est clos. Le suivi à 6 mois est programmé."
                          + (f" Périodes closes : {len(chosen)}." if chosen else ""),
                          "succes")
                    return redirect(url_for("web.participant", participant_id=participant_id))
    return _render("end.html", 422 if state.failed else 200, participant_id=participant_id,
                   enrolment=enrolment, action=enrolment.action, state=state,
                   own_periods=[p for p in periods if p.own],
                   other_periods=[p for p in periods if not p.own],
                   closing=closing, period_errors=period_errors)


def _posted_closings(periods: list[Any]) -> dict[str, dict[str, Any]]:
    """The closing fields of each own period as posted: ticked, its date, its closing
    event's id (kept across a refused submit, so a retry records each closing once)."""
    ticked = set(request.form.getlist("close"))
    posted = {}
    for period in periods:
        if not period.own:
            continue
        key = str(period.start_event_id)
        posted[key] = {
            "checked": key in ticked,
            "id": request.form.get(f"close_id.{key}") or str(uuid.uuid4()),
            "date": (request.form.get(f"close_date.{key}") or "").strip(),
            "reason": (request.form.get(f"close_reason.{key}") or "").strip(),
        }
    return posted


def _dotted(messages: Any, prefix: str = "") -> dict[str, Any]:
    """marshmallow's nested errors as flat dotted names (``close_periods.0.date``)."""
    if not isinstance(messages, dict):
        return {prefix: messages}
    flat: dict[str, Any] = {}
    for key, value in messages.items():
        flat |= _dotted(value, f"{prefix}.{key}" if prefix else str(key))
    return flat


def _period_errors(errors: dict[str, list[str]], chosen: list[str]) -> dict[str, list[str]]:
    """Errors under ``close_periods.<index>…`` moved off ``errors`` onto their period."""
    found: dict[str, list[str]] = {}
    for name in [n for n in errors if n.startswith("close_periods")]:
        parts = name.split(".")
        messages = errors.pop(name)
        if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(chosen):
            found.setdefault(chosen[int(parts[1])], []).extend(messages)
        else:
            found.setdefault("", []).extend(messages)
    return found


@bp.route("/personnes/<uuid:participant_id>/accompagnements/<uuid:enrolment_id>/correction",
          methods=["GET", "POST"])
@allow(*WRITER_ROLES)
def enrolment_correct(participant_id: Any, enrolment_id: Any) -> Any:
    """Correct an ended enrolment's last day or exit reason, or reopen it; the service moves
    or cancels its six-month check."""
    enrolment = _enrolment_of(participant_id, enrolment_id)
    ended = enrolment.end_date
    state = FormState(values={"end_date": ended.isoformat() if ended else None,
                              "exit_reason": enrolment.exit_reason,
                              "expected_version": enrolment.version})
    if request.method == "POST":
        posted = submitted(booleans=("reopen",))
        reopen = posted.pop("reopen")
        if reopen:
            posted["end_date"] = None
            posted.pop("exit_reason", None)
        data, state = load(CorrectEndSchema(), posted)
        state.values["reopen"] = reopen
        if data is not None and attempt(state, lambda s: enrolments.correct_end(
                s, g.actor, enrolment, data, today=clock.today(), now=clock.now())):
            flash("L'accompagnement est rouvert : son suivi à 6 mois est annulé." if reopen
                  else "La sortie est corrigée : le suivi à 6 mois suit la nouvelle date.",
                  "succes")
            return redirect(url_for("web.participant", participant_id=participant_id))
    return _render("correct_end.html", 422 if state.failed else 200,
                   participant_id=participant_id, enrolment=enrolment,
                   action=enrolment.action, state=state)


@bp.route("/personnes/<uuid:participant_id>/accompagnements/<uuid:enrolment_id>/annulation",
          methods=["GET", "POST"])
@allow(*WRITER_ROLES)
def enrolment_cancel(participant_id: Any, enrolment_id: Any) -> Any:
    """Cancel an enrolment entered by mistake, with a reason: it stays on the page, struck
    through, and counts nowhere (the service cancels its check and withdraws its alerts)."""
    enrolment = _enrolment_of(participant_id, enrolment_id)
    state = FormState()
    if request.method == "POST":
        data, state = load(CancelSchema(), submitted())
        if data is not None and attempt(state, lambda s: enrolments.cancel(
                s, g.actor, enrolment.uuid, data["reason"], now=clock.now())):
            flash("L'inscription est annulée ; elle reste visible, barrée, dans le parcours "
                  "et ne compte plus nulle part.", "succes")
            return redirect(url_for("web.participant", participant_id=participant_id))
    return _render("cancel_enrolment.html", 422 if state.failed else 200,
                   participant_id=participant_id, enrolment=enrolment,
                   action=enrolment.action, state=state)


# --- events --------------------------------------------------------------------------------

def _enum_of(field: fields.Field) -> type[StrEnum] | None:
    """The domain enum a field's values come from, as its validator carries it."""
    return next((v.enum for v in field.validators if isinstance(v, EnumOneOf)), None)


def _range(field: fields.Field) -> tuple[Any, Any]:
    for validator in field.validators:
        if isinstance(validator, validate.Range):
            return validator.min, validator.max
    return None, None


@functools.cache
def attribute_fields(event_type: EventType) -> list[dict[str, Any]]:
    """The type's own fields, described for the form (read from its attributes schema)."""
    out = []
    for name, field in ATTRIBUTE_SCHEMAS[event_type]().fields.items():
        spec: dict[str, Any] = {"name": name, "required": field.required}
        if isinstance(field, fields.Boolean):
            spec["widget"] = "checkbox" if field.load_default is not None else "yesno"
        elif (enum := _enum_of(field)) is not None:
            spec |= {"widget": "select", "enum": enum}
        elif isinstance(field, fields.Integer | fields.Decimal):
            low, high = _range(field)
            step = "1" if isinstance(field, fields.Integer) else "0.01"
            spec |= {"widget": "number", "min": low, "max": high, "step": step}
        elif name == "child_birth_month":
            spec["widget"] = "month"
        else:
            spec["widget"] = "text"
        out.append(spec)
    return out


def event_details(event_type: str, attributes: Mapping[str, Any] | None
                  ) -> list[tuple[str, str]]:
    """(French label, French value) of an event's attributes, for the timeline."""
    if event_type not in EventType.__members__.values() or not attributes:
        return []
    out = []
    for spec in attribute_fields(EventType(event_type)):
        value = attributes.get(spec["name"])
        if value is None:
            continue
        if isinstance(value, bool):
            text = "oui" if value else "non"
        elif spec.get("enum") is not None:
            text = code_fr(value, spec["enum"])
        elif spec["widget"] == "month":
            text = f"{value[5:7]}/{value[:4]}"
        else:
            text = str(value).replace(".", ",")
        out.append((field_fr(spec["name"]), text))
    return out


START_OF_FAMILY = {k.family.value: k.type.value for k in KINDS.values()
                   if k.family is not None and k.boundary is Boundary.START}


def _booleans(event_type: EventType) -> tuple[str, ...]:
    return tuple(f["name"] for f in attribute_fields(event_type) if f["widget"] == "checkbox")


def types_by_family() -> list[tuple[str, list[EventType]]]:
    """The event types grouped by family (pathway periods first, then one-off events)."""
    groups: list[tuple[str, list[EventType]]] = [
        (code_fr(family.value, Family), [k.type for k in KINDS.values() if k.family is family])
        for family in Family
    ]
    groups.append(("Événements ponctuels",
                   [k.type for k in KINDS.values() if k.boundary is Boundary.POINT]))
    return [(label, types) for label, types in groups if types]


def _event_form_data(participant_id: Any, event_type: EventType) -> dict[str, Any]:
    """The posted form as the API's event body: common fields, the rest as attributes."""
    form = submitted(booleans=_booleans(event_type))
    common = {"id", "date", "enrolment_id", "operation_id", "closes"}
    names = {f["name"] for f in attribute_fields(event_type)}
    body: dict[str, Any] = {k: v for k, v in form.items() if k in common}
    body |= {"participant_id": str(participant_id), "type": event_type.value,
             "attributes": {k: v for k, v in form.items() if k in names}}
    return body


def _flat_errors(messages: Any) -> dict[str, list[str]]:
    """marshmallow errors with the attributes' own fields lifted to the top (one per input)."""
    if not isinstance(messages, dict):
        return french_errors({"_": messages})
    lifted = dict(messages)
    nested = lifted.pop("attributes", None)
    if isinstance(nested, dict):
        lifted |= nested
    elif nested is not None:
        lifted["attributes"] = nested
    return french_errors(lifted)


@bp.route("/personnes/<uuid:participant_id>/evenements/nouveau", methods=["GET", "POST"])
@allow(*WRITER_ROLES)
def event_new(participant_id: Any) -> Any:
    """One form per event type, with only its fields; the hidden id makes a retry harmless."""
    s = session()
    record = _participant(participant_id)
    access.writable_participant(s, g.actor, record, now=clock.now())
    raw_type = request.values.get("type")
    if raw_type not in {t.value for t in EventType}:
        return _render("event_types.html", participant_id=record.uuid,
                       groups=types_by_family())
    event_type = EventType(raw_type)
    existing_event = None  # an identical start already recorded: linked from the refusal
    state = FormState(values={"id": str(uuid.uuid4()), "date": clock.today().isoformat()})
    if request.method == "POST":
        body = _event_form_data(record.uuid, event_type)
        state = FormState(values={k: v for k, v in body.items() if k != "attributes"}
                          | body["attributes"])
        try:
            data = EventCreateSchema().load(body)
        except ValidationError as error:
            state.errors = _flat_errors(error.messages)
            state.message = FORM_ERROR
        else:
            try:
                with transaction() as tx:
                    result = events.record(tx, keyring(), g.actor, data, today=clock.today(),
                                           now=clock.now())
                    created = result.created
            except CohortError as error:
                state.refuse(error)
                existing_event = error.details.get("existing_id")
                if existing_event:
                    state.message = ("Cet événement est déjà enregistré pour cette personne "
                                     "(même type, même date, mêmes détails) : rien n'a été "
                                     "ajouté.")
                if "id" in error.errors:  # sent before with other values: a new event now
                    state.values["id"] = str(uuid.uuid4())
                    state.message = ("Ce formulaire a déjà servi à enregistrer un événement "
                                     "avec d'autres valeurs : vérifiez la fiche de la personne "
                                     "avant de l'envoyer de nouveau.")
            else:
                label = code_fr(event_type.value, EventType)
                when = data["date"].strftime("%d/%m/%Y")
                flash(f"Événement enregistré : {label} le {when}." if created else
                      "Cet événement était déjà enregistré (envoi en double) : rien n'a été "
                      "ajouté.", "succes" if created else "info")
                return redirect(url_for("web.participant", participant_id=record.uuid))
    return _event_form_page(record, event_type, state, existing_event=existing_event)


def _event_form_page(record: Participant, event_type: EventType, state: FormState, *,
                     existing_event: str | None = None, correcting: Any = None) -> Any:
    """The form of one event type: a new event, or the replacement of ``correcting``."""
    s = session()
    kind = KINDS[event_type]
    view = timeline(s, g.actor, record, now=clock.now())
    valid = [e for e in view["enrolments"] if e["cancelled_at"] is None and e["own"]]
    enrolled = [e for e in valid if e["end_date"] is None] or valid
    if correcting is not None:  # the corrected event's own enrolment stays a choice
        enrolled = valid
    closable = [iv for iv in view["intervals"] if iv["own"]
                and iv["end_date"] is None and iv["family"] == (kind.family or "")]
    operations = list(s.execute(list_operations()).scalars()) if kind.needs_operation else []
    return _render(
        "event_form.html", 422 if state.failed else 200, participant_id=record.uuid,
        existing_event=existing_event, correcting=correcting, event_type=event_type,
        kind=kind, state=state, fields=attribute_fields(event_type),
        is_end=kind.boundary is Boundary.END, closable=closable,
        enrolment_choices=[(str(e["id"]), f"{e['action_code']} ({e['structure_name']}), "
                                          f"depuis le {e['start_date']:%d/%m/%Y}")
                           for e in enrolled],
        closable_choices=[(str(iv["start_event_id"]), f"Commencée le {iv['start_date']:%d/%m/%Y}")
                          for iv in closable],
        operation_choices=[(str(o.uuid), o.label) for o in operations])


def _event_of(participant_id: Any, event_id: Any) -> Event:
    """An event the actor may correct or void: readable, on the page of its own participant
    (else a 404), and recorded by the actor's structure (else a 403)."""
    s = session()
    event = access.readable_event(s, g.actor, event_id, now=clock.now())
    if s.get(Participant, event.participant_id).uuid != participant_id:  # type: ignore[union-attr]
        raise NotFound("event_id: not found", errors={"event_id": ["not found"]})
    need_to_know.require_own_event(s, g.actor, event.id)
    return event


def _prefilled(event: Event, event_type: EventType) -> dict[str, Any]:
    """The form's values for an event as recorded (the replacement gets a new id)."""
    view = event_view(session(), event)
    values: dict[str, Any] = {"id": str(uuid.uuid4()), "date": event.date.isoformat()}
    for link in ("enrolment_id", "operation_id", "closes"):
        if view[link] is not None:
            values[link] = str(view[link])
    widgets = {f["name"]: f["widget"] for f in attribute_fields(event_type)}
    for name, value in (event.attributes or {}).items():
        if isinstance(value, bool) and widgets.get(name) == "yesno":
            value = "true" if value else "false"
        values[name] = value
    return values


@bp.route("/personnes/<uuid:participant_id>/evenements/<uuid:event_id>/correction",
          methods=["GET", "POST"])
@allow(*WRITER_ROLES)
def event_correct(participant_id: Any, event_id: Any) -> Any:
    """Correct an event in one step: the form pre-filled with its values, and a reason; the
    service voids it and records the replacement, or refuses both."""
    s = session()
    event = _event_of(participant_id, event_id)
    record = s.get(Participant, event.participant_id)
    assert record is not None  # the foreign key guarantees it
    access.writable_participant(s, g.actor, record, now=clock.now())
    event_type = EventType(event.type)
    state = FormState(values=_prefilled(event, event_type))
    if request.method == "POST":
        body = _event_form_data(record.uuid, event_type)
        reason = (request.form.get("reason") or "").strip()
        state = FormState(values={k: v for k, v in body.items() if k != "attributes"}
                          | body["attributes"] | {"reason": reason})
        try:
            data = CorrectionSchema().load(body | ({"reason": reason} if reason else {}))
        except ValidationError as error:
            state.errors = _flat_errors(error.messages)
            state.message = FORM_ERROR
        else:
            data.pop("reason")
            try:
                with transaction() as tx:
                    events.correct(tx, keyring(), g.actor, event.uuid, data, reason,
                                   today=clock.today(), now=clock.now())
            except CohortError as error:
                state.refuse(error)
            else:
                flash("L'événement est corrigé : l'ancien reste visible, barré, dans le "
                      "parcours.", "succes")
                return redirect(url_for("web.participant", participant_id=record.uuid))
    return _event_form_page(record, event_type, state, correcting=event)


@bp.route("/personnes/<uuid:participant_id>/evenements/<uuid:event_id>/annulation",
          methods=["GET", "POST"])
@allow(*WRITER_ROLES)
def event_void(participant_id: Any, event_id: Any) -> Any:
    """Void an event with a reason: it stays in the timeline, marked, and counts nowhere."""
    event = _event_of(participant_id, event_id)
    state = FormState()
    if request.method == "POST":
        data, state = load(VoidSchema(), submitted())
        if data is not None and attempt(state, lambda s: events.void(
                s, g.actor, event, data["reason"], now=clock.now())):
            flash("L'événement est annulé ; il reste visible, barré, dans le parcours.",
                  "succes")
            return redirect(url_for("web.participant", participant_id=participant_id))
    return _render("void.html", 422 if state.failed else 200, participant_id=participant_id,
                   event=event, state=state)

