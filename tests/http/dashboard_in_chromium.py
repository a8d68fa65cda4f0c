#!/usr/bin/python3
"""The dashboard as a person sees it: headless Chromium at a desktop and a phone width.

    dashboard_in_chromium.py SERVER OUT_DIR

Starts SERVER (tests/http/dashboard_server.cpp), lets its jobs run, fail and skip for a few
seconds, then checks what Chromium renders: the DOM after layout holds every job, and the
screenshots show the header, the paused badge, and the timelines' green runs and red
failures, at 1280x800 and at 390x844 (one card per job).
"""
import os
import subprocess
import sys
import time

from PIL import Image

server_binary, out_dir = sys.argv[1], sys.argv[2]
JOBS = ["daily_reward", "drop_tick", "flaky_sync", "slow_sweep", "paused_report"]
# The timeline's ticks are 2 of 360 units wide and a few seconds of runs share one column,
# so their pixels are few (and fewer when scaled to a phone's width): at least 10 of them.
# The badges are large areas.
COLORS = {"header": (0x1D, 0x27, 0x33), "succeeded tick": (0x2F, 0x9E, 0x44), "failed tick": (0xE0, 0x31, 0x31),
          "paused badge": (0xFF, 0xE7, 0xA3), "succeeded badge": (0xD4, 0xF1, 0xD8)}
LEAST = {"succeeded tick": 10, "failed tick": 10}


def chromium(*args):
    command = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
               "--user-data-dir=" + os.path.join(out_dir, "chromium-profile"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=90)


def pixels_near(image, color, tolerance=12):
    return sum(1 for p in image.getdata() if all(abs(a - b) <= tolerance for a, b in zip(p, color)))


failures = []
server = subprocess.Popen([server_binary, "40"], stdout=subprocess.PIPE, text=True)
try:
    url = server.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        sys.exit(f"FAIL: the server printed {url!r}, not its URL")
    time.sleep(6)  # some runs, failures and skips for the timelines
    dom = chromium("--dump-dom", url).stdout
    for job in JOBS:
        if f">{job}" not in dom:
            failures.append(f"the rendered page does not show job {job}")
    if "At 00:00" not in dom:
        failures.append("the schedule is not in words (cron_explain)")
    for name, (width, height), expect in [("desktop", (1280, 800), COLORS),
                                          ("phone", (390, 844), {k: COLORS[k] for k in ("header", "succeeded badge")})]:
        png = os.path.join(out_dir, f"dashboard-{name}.png")
        if os.path.exists(png):
            os.remove(png)
        chromium(f"--screenshot={png}", f"--window-size={width},{height}", url)
        if not os.path.exists(png):
            failures.append(f"no {name} screenshot")
            continue
        image = Image.open(png).convert("RGB")
        if image.size != (width, height):
            failures.append(f"the {name} screenshot is {image.size}, not {(width, height)}")
        for what, color in expect.items():
            count = pixels_near(image, color)
            print(f"{name}: {count} pixels of {what}")
            if count < LEAST.get(what, 100):
                failures.append(f"the {name} screenshot shows no {what} ({count} pixels of #{'%02x%02x%02x' % color})")
finally:
    server.terminate()
    server.wait(timeout=10)

for f in failures:
    print("FAIL:", f)
if failures:
    sys.exit(1)
print("ok   the dashboard renders every job, in words, with timelines, at desktop and phone widths")
