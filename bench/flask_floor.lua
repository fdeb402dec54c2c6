-- wrk script for bench/flask_floor.py: every request posts the same contact event body
-- (the shape bench/wrk_events.lua posts to the service, with fixed ids).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"id": "0b7e6a52-3c1d-4f1e-9a57-2f8d4c6b1e90", '
   .. '"participant_id": "5f2c9d1a-8e47-4b3a-b6d0-7c1e2a9f4d38", "type": "contact", '
   .. '"date": "2023-06-15", "attributes": {"mode": "phone"}}'
