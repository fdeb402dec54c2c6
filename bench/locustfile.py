"""Locust users for bench/http_events.py: coordinators posting contact events, each with a fresh
client-supplied id, as fast as the service answers (no think time)."""

from __future__ import annotations

import json
import os
import random
import uuid

from locust import FastHttpUser, constant, events, task

TOKEN = os.environ["BENCH_TOKEN"]
PARTICIPANTS = json.loads(os.environ["BENCH_PARTICIPANTS"])
ACKNOWLEDGED = {"created": 0}  # 201 answers actually read by a user


@events.test_stop.add_listener
def _write_count(**_: object) -> None:
    with open(os.environ["BENCH_COUNT_FILE"], "w", encoding="utf-8") as out:
        out.write(str(ACKNOWLEDGED["created"]))


class Coordinator(FastHttpUser):
    wait_time = constant(0)

    @task
    def post_event(self) -> None:
        day = f"2023-{random.randint(3, 12):02d}-{random.randint(1, 28):02d}"
        body = {"id": str(uuid.uuid4()), "participant_id": random.choice(PARTICIPANTS),
                "type": "contact", "date": day, "attributes": {"mode": "phone"}}
        with self.client.post("/api/v1/events", json=body, name="POST /api/v1/events",
                              headers={"Authorization": f"Bearer {TOKEN}"},
                              catch_response=True) as response:
            if response.status_code == 201:
                ACKNOWLEDGED["created"] += 1
            else:
                response.failure(f"status {response.status_code}")
