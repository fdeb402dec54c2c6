"""The framework floor (run by hand, not a test): a Flask app that only echoes a JSON body.

    .venv/bin/gunicorn --chdir bench -w 2 -b 127.0.0.1:8765 flask_floor:app &
    wrk -t2 -c16 -d15s -s bench/flask_floor.lua http://127.0.0.1:8765/e

What gunicorn + Flask + JSON cost per request, under the same 2 workers and wrk as
bench/http_events.py, with nothing of the service: no token, no schema, no database.
"""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/e")
def e():  # type: ignore[no-untyped-def]
    return jsonify(request.get_json()), 201
