#!/usr/bin/env python3
"""Seeds cases through the JSON API with several concurrent writers and reports the writes a
second minute by minute and every failure (the "database is locked" check of issue 15).

    benches/load.py BASE_URL TOKEN CASES WRITERS [SECONDS]

Stops at CASES cases or after SECONDS, whichever comes first. Prints one line a minute and a
summary; exits 1 if any request failed.
"""
import datetime
import json
import sys
import threading
import time
import urllib.request

base, token, total, writers = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
limit = float(sys.argv[5]) if len(sys.argv) > 5 else float("inf")
lock = threading.Lock()
state = {"next": 0, "ok": 0, "failed": 0, "statuses": {}}
minutes = []  # writes completed in each minute
start = time.monotonic()


def body(n):
    aware = datetime.date(2025, 4, 1) + datetime.timedelta(days=n % 360)
    return json.dumps({
        "child_pseudonym": f"Load {n}",
        "aware_on": aware.isoformat(),
        "incident_on": aware.isoformat(),
        "harm": "serious_harm",
        "looked_after": False,
        "summary": "load test",
    }).encode()


def writer():
    while True:
        with lock:
            n = state["next"]
            if n >= total or time.monotonic() - start > limit:
                return
            state["next"] += 1
        req = urllib.request.Request(
            base + "/api/v1/cases", data=body(n), method="POST",
            headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                status = r.status
        except urllib.error.HTTPError as e:
            status = e.code
        except Exception:  # noqa: BLE001 - a refused connection is a failure too
            status = 0
        minute = int((time.monotonic() - start) // 60)
        with lock:
            while len(minutes) <= minute:
                minutes.append(0)
            if status == 201:
                state["ok"] += 1
                minutes[minute] += 1
            else:
                state["failed"] += 1
                state["statuses"][status] = state["statuses"].get(status, 0) + 1


threads = [threading.Thread(target=writer) for _ in range(writers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - start
for i, n in enumerate(minutes):
    span = min(60.0, elapsed - 60 * i)
    print(f"minute {i + 1}: {n / span:.1f} writes/s")
# The first minute against the last full one (a partial last minute is left out).
full = minutes[:-1] if len(minutes) > 1 else minutes
first, last = (full[0], full[-1]) if full else (0, 0)
ratio = (first / last) if last else float("inf")
print(f"seeded {state['ok']} cases in {elapsed:.1f}s with {writers} writers "
      f"({state['ok'] / elapsed:.1f} writes/s); failed {state['failed']} {state['statuses']}; "
      f"first minute / last full minute = {ratio:.2f}")
sys.exit(1 if state["failed"] else 0)
