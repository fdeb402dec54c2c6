"""Pages: administration — structures, users, API tokens, keys, erasures, the audit log.

Administrators only. Every write goes through the service that checks and audits it. A new
API token's secret is shown once, in the response to the POST that created it: never
flashed (flash messages live in the session cookie), never stored, never shown again.
Key rotation stays an operator's command (it needs the key file): these pages only read.
"""

from __future__ import annotations

import json
from typing import Any

from flask import flash, g, redirect, render_template, request, url_for

from cohort import audit, clock
from cohort.actors import Role
from cohort.auth import allow
from cohort.errors import CohortError
from cohort.models import ApiToken, LinkRequest, Participant, Structure, User
from cohort.request_db import checkpoint, keyring, ledger_path, session, transaction
from cohort.schemas.accounts import (
    USER_ROLES,
    ActiveSchema,
    AuditFilterArgs,
    PasswordSchema,
    RoleSchema,
    TokenSchema,
    UserCreateSchema,
    UserFilterArgs,
)
from cohort.schemas.common import PageArgs, StrictSchema
from cohort.schemas.link_requests import (
    AcceptSchema,
    DismissalSchema,
    DuplicatesArgs,
    LinkRequestListArgs,
    OpenPairSchema,
    PairSchema,
    RejectSchema,
)
from cohort.schemas.participants import ErasureDecisionSchema, ErasureRequestSchema
from cohort.schemas.structures import StructureCreateSchema, StructureUpdateSchema
from cohort.services import (
    access,
    accounts,
    administration,
    duplicate_report,
    erasure_requests,
    lifecycle,
    link_requests,
    second_factor,
    structures,
)
from cohort.services.keys import key_status
from cohort.services.lookup import by_uuid
from cohort.web import labels
from cohort.web.blueprint import bp
from cohort.web.forms import FormState, load, submitted

ADMIN = Role.ADMIN
PER_PAGE = 50


def _render(template: str, status: int = 200, **context: Any) -> Any:
    role_options = [(role.value, labels.ROLE_LABELS[role]) for role in USER_ROLES]
    return render_template(f"admin/{template}", L=labels, ROLE_OPTIONS=role_options,
                           **context), status


def _query_args() -> dict[str, str]:
    return {key: value.strip() for key, value in request.args.items() if value.strip()}


def _filters_kept() -> dict[str, str]:
    """The query's filters, for the pager's links (which set the page themselves)."""
    return {key: value for key, value in _query_args().items() if key != "page"}


def _structure_options() -> list[tuple[str, str]]:
    rows = session().execute(structures.structure_list_query({})).scalars()
    return [(str(s.uuid), f"{s.name} ({s.departement})") for s in rows]


@bp.route("/admin")
@allow(ADMIN)
def admin_home() -> Any:
    """The administration index, with a few counts."""
    counts = administration.overview(session(), g.actor, now=clock.now())
    return _render("home.html", counts=counts,
                   pending_link_requests=link_requests.pending_count(session()))


# --- structures ---------------------------------------------------------------------------

@bp.route("/admin/structures")
@allow(ADMIN)
def admin_structures() -> Any:
    args, state = load(PageArgs(), _query_args())
    page = administration.page_of(session(), structures.structure_list_query({}),
                                  page=(args or {}).get("page", 1), per_page=PER_PAGE)
    return _render("structures.html", page=page)


@bp.route("/admin/structures/nouvelle", methods=["GET", "POST"])
@allow(ADMIN)
def admin_structure_new() -> Any:
    state = FormState()
    if request.method == "POST":
        data, state = load(StructureCreateSchema(), submitted())
        if data is not None:
            try:
                with transaction() as s:
                    structures.create_structure(s, g.actor, data, now=clock.now())
            except CohortError as error:
                state.refuse(error)
            else:
                flash("Structure créée.", "succes")
                return redirect(url_for("web.admin_structures"))
    return _render("structure_form.html", 422 if state.failed else 200, state=state,
                   structure=None)


@bp.route("/admin/structures/<uuid:structure_id>/modifier", methods=["GET", "POST"])
@allow(ADMIN)
def admin_structure_edit(structure_id: Any) -> Any:
    structure = by_uuid(session(), Structure, structure_id, "structure_id")
    state = FormState(values={"name": structure.name, "kind": structure.kind,
                              "departement": structure.departement})
    if request.method == "POST":
        data, state = load(StructureUpdateSchema(), submitted())
        if data is not None:
            try:
                with transaction() as s:
                    structures.update_structure(s, g.actor, structure, data, now=clock.now())
            except CohortError as error:
                state.refuse(error)
            else:
                flash("Structure modifiée.", "succes")
                return redirect(url_for("web.admin_structures"))
    return _render("structure_form.html", 422 if state.failed else 200, state=state,
                   structure=structure)


# --- users ----------------------------------------------------------------------------------

@bp.route("/admin/utilisateurs")
@allow(ADMIN)
def admin_users() -> Any:
    args, state = load(UserFilterArgs(), _query_args())
    filters = args or {}
    page = administration.page_of(session(), administration.user_list_query(filters),
                                  page=filters.get("page", 1), per_page=PER_PAGE)
    return _render("users.html", 422 if state.failed else 200, page=page, state=state,
                   structure_options=_structure_options(), current=_filters_kept())


@bp.route("/admin/utilisateurs/nouveau", methods=["GET", "POST"])
@allow(ADMIN)
def admin_user_new() -> Any:
    state = FormState()
    if request.method == "POST":
        data, state = load(UserCreateSchema(), submitted())
        if data is not None:
            try:
                with transaction() as s:
                    user = accounts.create_user(s, g.actor, data, now=clock.now())
                    user_id = user.uuid
            except CohortError as error:
                state.refuse(error)
            else:
                flash("Compte créé. Communiquez le mot de passe initial à la personne par un "
                      "canal sûr.", "succes")
                return redirect(url_for("web.admin_user", user_id=user_id))
    state.values.pop("password", None)  # a password is never sent back
    return _render("user_new.html", 422 if state.failed else 200, state=state,
                   structure_options=_structure_options())


def _user_page(user: User, status: int = 200, **states: FormState) -> Any:
    for state in states.values():
        state.values.pop("password", None)
    tokens = administration.tokens_of(session(), user)
    forms = dict.fromkeys(("role_state", "password_state", "active_state", "token_state")) | states
    return _render("user.html", status, user=user, tokens=tokens, now=clock.now(), **forms)


@bp.route("/admin/utilisateurs/<uuid:user_id>")
@allow(ADMIN)
def admin_user(user_id: Any) -> Any:
    """A user's account: role, activity, password reset, API tokens."""
    return _user_page(by_uuid(session(), User, user_id, "user_id"))


def _update_user(user_id: Any, schema: StrictSchema, form: str, done: str) -> Any:
    """One change of a user's account through accounts.update_user (which audits it and
    ends the user's open web sessions)."""
    user = by_uuid(session(), User, user_id, "user_id")
    data, state = load(schema, submitted())
    if data is not None:
        try:
            with transaction() as s:
                accounts.update_user(s, g.actor, user, data, now=clock.now())
        except CohortError as error:
            state.refuse(error)
        else:
            flash(done, "succes")
            return redirect(url_for("web.admin_user", user_id=user_id))
    return _user_page(user, 422, **{form: state})


@bp.route("/admin/utilisateurs/<uuid:user_id>/role", methods=["POST"])
@allow(ADMIN)
def admin_user_role(user_id: Any) -> Any:
    return _update_user(user_id, RoleSchema(), "role_state",
                        "Rôle modifié. Les sessions ouvertes de ce compte ont été fermées.")


@bp.route("/admin/utilisateurs/<uuid:user_id>/activation", methods=["POST"])
@allow(ADMIN)
def admin_user_active(user_id: Any) -> Any:
    active = request.form.get("active") == "1"
    done = ("Compte réactivé." if active else
            "Compte désactivé : ses sessions et ses jetons d'API ne fonctionnent plus.")
    return _update_user(user_id, ActiveSchema(), "active_state", done)


@bp.route("/admin/utilisateurs/<uuid:user_id>/mot-de-passe", methods=["POST"])
@allow(ADMIN)
def admin_user_password(user_id: Any) -> Any:
    return _update_user(user_id, PasswordSchema(), "password_state",
                        "Mot de passe réinitialisé. Communiquez-le à la personne par un canal "
                        "sûr ; ses sessions ouvertes ont été fermées.")


@bp.route("/admin/utilisateurs/<uuid:user_id>/double-authentification", methods=["POST"])
@allow(ADMIN)
def admin_user_second_factor(user_id: Any) -> Any:
    """Clear a user's second factor (a lost phone); audited, their sessions end."""
    with transaction() as s:
        user = by_uuid(s, User, user_id, "user_id")
        second_factor.reset(s, g.actor, user, now=clock.now())
    flash("Double authentification réinitialisée : la personne la configurera de nouveau à "
          "sa prochaine connexion.", "succes")
    return redirect(url_for("web.admin_user", user_id=user_id))


@bp.route("/admin/utilisateurs/<uuid:user_id>/jetons", methods=["POST"])
@allow(ADMIN)
def admin_token_create(user_id: Any) -> Any:
    """Create an API token; its secret appears in this response only."""
    user = by_uuid(session(), User, user_id, "user_id")
    data, state = load(TokenSchema(), submitted())
    if data is not None:
        try:
            with transaction() as s:
                issued = accounts.create_token(s, g.actor, user, label=data["label"],
                                               days=data["days"], now=clock.now())
                token, secret = issued.token, issued.secret
        except CohortError as error:
            state.refuse(error)
        else:
            return _render("token_created.html", 201, user=user, token=token, secret=secret)
    return _user_page(user, 422, token_state=state)


@bp.route("/admin/jetons/<uuid:token_id>/revoquer", methods=["POST"])
@allow(ADMIN)
def admin_token_revoke(token_id: Any) -> Any:
    with transaction() as s:
        token = by_uuid(s, ApiToken, token_id, "token_id")
        owner = token.user.uuid
        accounts.revoke_token(s, g.actor, token, now=clock.now())
    flash("Jeton révoqué : il ne donne plus accès à l'API.", "succes")
    return redirect(url_for("web.admin_user", user_id=owner))


# --- keys -----------------------------------------------------------------------------------

@bp.route("/admin/cles")
@allow(ADMIN)
def admin_keys() -> Any:
    """Key versions in use and rotation progress (rotation itself is a command)."""
    return _render("keys.html", statuses=key_status(session(), keyring()))


# --- erasures -------------------------------------------------------------------------------

def _erasures_page(state: FormState, status: int = 200, **forms: Any) -> Any:
    args, _ = load(PageArgs(), {k: v for k, v in _query_args().items() if k == "page"})
    page = administration.page_of(session(), administration.erasure_list_query(),
                                  page=(args or {}).get("page", 1), per_page=PER_PAGE, rows=True)
    pending = session().execute(erasure_requests.request_list_query()).scalars().all()
    return _render("erasures.html", status, state=state, page=page, pending=pending,
                   me=g.actor.user_id, **forms)


@bp.route("/admin/effacements", methods=["GET", "POST"])
@allow(ADMIN)
def admin_erasures() -> Any:
    """Step 1 of an erasure request (which person, keep or delete the pathway, why), and
    the past erasures. The person's id may come from a link (?participant_id=…)."""
    if request.method == "GET":
        prefill = {k: v for k, v in _query_args().items() if k == "participant_id"}
        return _erasures_page(FormState(values=prefill))
    data, state = load(ErasureRequestSchema(), submitted())
    if data is None:
        return _erasures_page(state, 422)
    try:
        participant = by_uuid(session(), Participant, data["participant_id"], "participant_id")
        access.readable_participant(session(), g.actor, participant, now=clock.now())
    except CohortError as error:  # out of scope answers as unknown: no existence oracle
        return _erasures_page(state.refuse(error), 422)
    return _render("erasure_confirm.html", participant=participant, data=data,
                   state=FormState())


@bp.route("/admin/effacements/confirmer", methods=["POST"])
@allow(ADMIN)
def admin_erasure_confirm() -> Any:
    """Step 2: the erasure itself, only with the confirmation box ticked."""
    data, state = load(ErasureRequestSchema(), submitted(booleans=("confirm",)))
    if data is None:
        return _erasures_page(state, 422)
    participant_id = data["participant_id"]
    if not data["confirm"]:
        participant = by_uuid(session(), Participant, participant_id, "participant_id")
        state.errors["confirm"] = ["Cochez la case pour confirmer l'effacement."]
        state.message = "L'effacement n'a pas été fait : il doit être confirmé."
        return _render("erasure_confirm.html", 422, participant=participant, data=data,
                       state=state)
    try:
        with transaction() as s:
            _, created = erasure_requests.request_erasure(
                s, g.actor, participant_id, mode=data["mode"], reason=data["reason"],
                now=clock.now())
    except CohortError as error:
        return _erasures_page(state.refuse(error), 422)
    flash("Demande d'effacement enregistrée : un·e autre administrateur·rice doit "
          "l'approuver pour qu'elle soit exécutée." if created else
          "Une demande d'effacement de cette personne attend déjà une décision.", "succes")
    return redirect(url_for("web.admin_erasures"))


@bp.route("/admin/effacements/<uuid:request_id>/approuver", methods=["POST"])
@allow(ADMIN)
def admin_erasure_approve(request_id: Any) -> Any:
    """The second administrator approves: the erasure is carried out."""
    try:
        with transaction() as s:
            erasure = erasure_requests.approve(s, g.actor, request_id, now=clock.now(),
                                               ledger=ledger_path())
    except CohortError as error:
        return _erasures_page(FormState(), error.status, decision_state=FormState().refuse(
            error))
    checkpoint()
    if erasure is not None:
        flash("Effacement approuvé et exécuté" + (
            " ; le parcours pseudonyme est conservé." if erasure.mode == lifecycle.KEEP_PATHWAY
            else " ; le parcours a été supprimé."), "succes")
    return redirect(url_for("web.admin_erasures"))


@bp.route("/admin/effacements/<uuid:request_id>/refuser", methods=["POST"])
@allow(ADMIN)
def admin_erasure_reject(request_id: Any) -> Any:
    """The second administrator refuses, saying why."""
    data, state = load(ErasureDecisionSchema(), submitted())
    if data is not None:
        try:
            with transaction() as s:
                erasure_requests.reject(s, g.actor, request_id, reason=data["reason"],
                                        now=clock.now())
        except CohortError as error:
            state.refuse(error)
        else:
            flash("Demande d'effacement refusée.", "succes")
            return redirect(url_for("web.admin_erasures"))
    return _erasures_page(FormState(), 422, decision_state=state)


# --- audit log ------------------------------------------------------------------------------

_CHAIN_PROBLEMS_FR = [
    ("content altered", "contenu modifié après coup"),
    ("does not follow the previous entry", "ne suit pas l'entrée précédente (une entrée "
                                           "antérieure a été modifiée ou supprimée)"),
    ("are missing", "entrées manquantes (supprimées)"),
    ("chain head does not match", "la tête de chaîne ne correspond pas à la dernière entrée"),
]


def _problem_fr(reason: str) -> str:
    return next((fr for en, fr in _CHAIN_PROBLEMS_FR if en in reason), "anomalie")


def _details_text(details: Any) -> str:
    return json.dumps(details, ensure_ascii=False, sort_keys=True) if details else ""


@bp.route("/admin/journal")
@allow(ADMIN)
def admin_audit() -> Any:
    """The audit log, newest first, with filters, and the chain's verification."""
    s = session()
    args, state = load(AuditFilterArgs(), _query_args())
    args = args or {}
    filters = {"action": args.get("action"), "actor_id": args.get("user"),
               "target_type": args.get("target_type"), "target_id": args.get("target_id"),
               "outcome": args.get("result"), "date_from": args.get("date_from"),
               "date_to": args.get("date_to")}
    page = administration.page_of(s, administration.audit_query(s, filters),
                                  page=args.get("page", 1), per_page=PER_PAGE)
    actors = administration.user_names(s, {e.actor_user_id for e in page.items
                                           if e.actor_user_id is not None})
    problems = [(p.entry_id, _problem_fr(p.reason)) for p in audit.verify(s)]
    present = administration.audit_choices(s)
    options = {
        "action": [(c, f"{labels.AUDIT_ACTION_LABELS.get(c, c)} ({c})") for c in present["action"]],
        "target_type": [(c, labels.AUDIT_TARGET_LABELS.get(c, c)) for c in present["target_type"]],
        "result": [(c, labels.AUDIT_OUTCOME_LABELS.get(c, c)) for c in present["outcome"]],
        "user": [(str(u.uuid), f"{u.display_name} ({u.email})")
                 for u in s.execute(administration.user_list_query({})).scalars()],
    }
    return _render("audit.html", 422 if state.failed else 200, page=page, state=state,
                   actors=actors, problems=problems, options=options,
                   current=_filters_kept(), details_text=_details_text)


# --- link requests and the duplicates report -------------------------------------------------

LINK_REQUEST_STATUS_LABELS = {"pending": "En attente", "accepted": "Acceptées",
                              "rejected": "Refusées"}


@bp.route("/admin/rapprochements")
@allow(ADMIN)
def admin_link_requests() -> Any:
    """The queue of link requests filed by coordinators (pending first, oldest first)."""
    args, state = load(LinkRequestListArgs(), _query_args())
    args = args or {"status": "pending", "page": 1}
    page = administration.page_of(session(), link_requests.request_list_query(args["status"]),
                                  page=args["page"], per_page=PER_PAGE, rows=True)
    return _render("link_requests.html", 422 if state.failed else 200, page=page,
                   shown=args["status"], statuses=LINK_REQUEST_STATUS_LABELS)


def _link_request_page(request_id: Any, status: int = 200, *, opened: Any = None,
                       **states: FormState) -> Any:
    s = session()
    link_request = by_uuid(s, LinkRequest, request_id, "link_request_id")
    states = {name: states.get(name) or FormState() for name in ("open", "accept", "reject")}
    return _render("link_request.html", status, link_request=link_request,
                   participant=s.get(Participant, link_request.participant_id),
                   candidate=s.get(Participant, link_request.candidate_id),
                   structure=s.get(Structure, link_request.structure_id), opened=opened,
                   **states)


@bp.route("/admin/rapprochements/<uuid:request_id>")
@allow(ADMIN)
def admin_link_request(request_id: Any) -> Any:
    """One request: what was asked, and the form that opens both identities."""
    return _link_request_page(request_id)


@bp.route("/admin/rapprochements/<uuid:request_id>/ouvrir", methods=["POST"])
@allow(ADMIN)
def admin_link_request_open(request_id: Any) -> Any:
    """Open both sealed identities under an exceptional access (one audit entry each)."""
    data, state = load(OpenPairSchema(), submitted())
    if data is None:
        return _link_request_page(request_id, 422, open=state)
    try:
        with transaction() as s:
            link_request = by_uuid(s, LinkRequest, request_id, "link_request_id")
            first, second = (s.get(Participant, link_request.participant_id),
                             s.get(Participant, link_request.candidate_id))
            assert first is not None
            assert second is not None
            opened = link_requests.open_pair(s, keyring(), g.actor, first, second,
                                             purpose=data["purpose"], now=clock.now())
    except CohortError as error:
        return _link_request_page(request_id, 422, open=state.refuse(error))
    return _link_request_page(request_id, opened=opened)


@bp.route("/admin/rapprochements/<uuid:request_id>/accepter", methods=["POST"])
@allow(ADMIN)
def admin_link_request_accept(request_id: Any) -> Any:
    data, state = load(AcceptSchema(), submitted())
    if data is not None:
        try:
            with transaction() as s:
                link_requests.accept(s, g.actor, request_id, reason=data["reason"],
                                     now=clock.now())
        except CohortError as error:
            state.refuse(error)
        else:
            flash("Demande acceptée : les deux fiches sont rapprochées (une seule personne).",
                  "succes")
            return redirect(url_for("web.admin_link_requests"))
    return _link_request_page(request_id, 422, accept=state)


@bp.route("/admin/rapprochements/<uuid:request_id>/refuser", methods=["POST"])
@allow(ADMIN)
def admin_link_request_reject(request_id: Any) -> Any:
    data, state = load(RejectSchema(), submitted())
    if data is not None:
        try:
            with transaction() as s:
                link_requests.reject(s, g.actor, request_id, reason=data["reason"],
                                     now=clock.now())
        except CohortError as error:
            state.refuse(error)
        else:
            flash("Demande refusée : les deux fiches restent distinctes.", "succes")
            return redirect(url_for("web.admin_link_requests"))
    return _link_request_page(request_id, 422, reject=state)


@bp.route("/admin/doublons")
@allow(ADMIN)
def admin_duplicates() -> Any:
    """Pairs of participants sharing a similarity key (confirmed), a page at a time."""
    args, state = load(DuplicatesArgs(), _query_args())
    args = args or {"after": None, "per_page": 20, "min_shared": 1}
    try:
        after = duplicate_report.Cursor.parse(args["after"]) if args["after"] else None
        with transaction() as s:
            found = duplicate_report.page(s, keyring(), g.actor, after=after,
                                          per_page=args["per_page"], now=clock.now(),
                                          min_shared=args["min_shared"])
    except CohortError as error:
        state.refuse(error)
        found = duplicate_report.ReportPage([], None)
    return _render("duplicates.html", 422 if state.failed else 200, found=found,
                   state=state, first_page=args["after"] is None,
                   min_shared=args["min_shared"])


def _pair_page(status: int, pair: dict[str, Any], *, opened: Any = None,
               **states: FormState) -> Any:
    s = session()
    first = by_uuid(s, Participant, pair["first_id"], "first_id")
    second = by_uuid(s, Participant, pair["second_id"], "second_id")
    states = {name: states.get(name) or FormState() for name in ("open", "link", "dismiss")}
    return _render("duplicate_pair.html", status, first=first, second=second, opened=opened,
                   **states)


@bp.route("/admin/doublons/paire", methods=["POST"])
@allow(ADMIN)
def admin_duplicate_pair() -> Any:
    """A pair of the report: open both identities (audited), then link or dismiss."""
    form = submitted()
    pair, pair_state = load(PairSchema(), {k: v for k, v in form.items()
                                           if k in ("first_id", "second_id")})
    if pair is None:
        return _render("duplicates.html", 422, found=duplicate_report.ReportPage([], None),
                       state=pair_state, first_page=True, min_shared=1)
    if "purpose" not in form:
        return _pair_page(200, pair)
    data, state = load(OpenPairSchema(), {"purpose": form["purpose"]})
    if data is None:
        return _pair_page(422, pair, open=state)
    try:
        with transaction() as s:
            first = by_uuid(s, Participant, pair["first_id"], "first_id")
            second = by_uuid(s, Participant, pair["second_id"], "second_id")
            opened = link_requests.open_pair(s, keyring(), g.actor, first, second,
                                             purpose=data["purpose"], now=clock.now())
    except CohortError as error:
        return _pair_page(422, pair, open=state.refuse(error))
    return _pair_page(200, pair, opened=opened)


def _pair_decision(decide: Any, done: str, form_name: str) -> Any:
    """Dismiss or link the pair of the posted form; a refusal shows the pair's page again
    with the error on the form that was sent."""
    form = submitted()
    data, state = load(DismissalSchema(), form)
    if data is not None:
        try:
            with transaction() as s:
                decide(s, data)
        except CohortError as error:
            state.refuse(error)
        else:
            flash(done, "succes")
            return redirect(url_for("web.admin_duplicates"))
    pair, _ = load(PairSchema(), {k: v for k, v in form.items()
                                  if k in ("first_id", "second_id")})
    if pair is None:
        return _render("duplicates.html", 422, found=duplicate_report.ReportPage([], None),
                       state=state, first_page=True, min_shared=1)
    return _pair_page(422, pair, **{form_name: state})


@bp.route("/admin/doublons/ecarter", methods=["POST"])
@allow(ADMIN)
def admin_duplicate_dismiss() -> Any:
    """Two people, not one: the pair leaves the report (stored, audited)."""
    return _pair_decision(
        lambda s, data: duplicate_report.dismiss(s, g.actor, data["first_id"],
                                                 data["second_id"], reason=data["reason"],
                                                 now=clock.now()),
        "Paire écartée : elle ne figure plus dans le rapport.", "dismiss")


@bp.route("/admin/doublons/lier", methods=["POST"])
@allow(ADMIN)
def admin_duplicate_link() -> Any:
    """One person: the later record is linked into the earlier (the existing link)."""
    return _pair_decision(
        lambda s, data: lifecycle.link(s, g.actor, data["second_id"], data["first_id"],
                                       reason=data["reason"], now=clock.now()),
        "Fiches rapprochées : la personne ne compte plus qu'une fois.", "link")
