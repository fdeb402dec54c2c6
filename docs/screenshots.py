"""Take the README's screenshots from the demo data: `.venv/bin/python docs/screenshots.py`.

Run `make demo` once first (it builds instance/demo.db, the demo keys and the demo users).
Starts the service on loopback, signs in as the demo coordinator and the demo evaluator in
Debian's Chromium, and writes docs/img/participant-page.png and docs/img/evaluator-page.png.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

from cohort import create_app
from cohort.demo.accounts import DEMO_PASSWORD
from cohort.models import Action, Enrolment, Event, Participant, Structure

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "img"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--lang=fr-FR"]


def richest_pathway(engine: sa.Engine) -> str:
    """A 62-A6 youth of the demo Mission Locale with the most varied pathway."""
    query = (sa.select(Participant.uuid)
             .join(Enrolment, Enrolment.participant_id == Participant.id)
             .join(Action, Action.id == Enrolment.action_id)
             .join(Structure, Structure.id == Enrolment.structure_id)
             .join(Event, Event.participant_id == Participant.id)
             .where(Action.code == "62-A6", Structure.name == "Mission Locale de Lens-Liévin")
             .group_by(Participant.uuid)
             .order_by(sa.func.count(sa.distinct(Event.type)).desc(),
                       sa.func.count(Event.id).desc())
             .limit(1))
    with engine.connect() as conn:
        return str(conn.execute(query).scalar_one())


def sign_in(page: Page, email: str) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/")


def main() -> None:
    database, keys = ROOT / "instance" / "demo.db", ROOT / "instance" / "demo-keys.toml"
    if not database.exists() or not keys.exists():
        sys.exit("screenshots: run `make demo` once first (it builds instance/demo.db)")
    app = create_app({"DATABASE_URL": f"sqlite:///{database}", "KEYS_FILE": str(keys),
                      "SESSION_COOKIE_SECURE": False})
    youth = richest_pathway(app.extensions["cohort.engine"])
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for email, path, name in (
                ("coordination@ml-lens.demo", f"/personnes/{youth}", "participant-page"),
                ("evaluation@cd62.demo", "/indicateurs?programme=erbm-2023&action=62-A6"
                 "&period_from=2023-01-01&period_to=2023-12-31&mode=published",
                 "evaluator-page"),
            ):
                context = browser.new_context(base_url=f"http://127.0.0.1:{server.server_port}",
                                              locale="fr-FR", timezone_id="Europe/Paris",
                                              viewport={"width": 1200, "height": 900})
                page = context.new_page()
                sign_in(page, email)
                page.goto(path)
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
                print(f"wrote docs/img/{name}.png")
                context.close()
            browser.close()
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
