#!/usr/bin/python3
"""Differential test: sked's next() against independent cron implementations.

Generates a fixed set of expressions (5- and 6-field; names, steps, lists, ranges), asks
each implementation for the next occurrences after several start instants, and compares:

  oracle       a brute-force Vixie cron written here (walks days, then hours, minutes,
               seconds); the referee, since the references disagree with each other
  sked         through the driver program given as argv[1]
  croniter     python3-croniter (Debian's, under /usr/bin/python3)
  cron-parser  npm, pinned in package.json
  croner       npm, pinned in package.json

sked must agree with the oracle on every case. Each reference's disagreements with the
oracle must be listed in known_disagreements.tsv (reference, expression, start, what it
answered, the reason it is wrong by the Vixie rule); a new one, or a listed one that has
gone away, fails the test. `run.py DRIVER --update` rewrites the list after review.
"""
import calendar
import datetime
import functools
import json
import os
import random
import re
import subprocess
import sys
from zoneinfo import ZoneInfo

HERE = os.path.dirname(os.path.abspath(__file__))
KNOWN = os.path.join(HERE, "known_disagreements.tsv")
EXPRESSIONS = 2400
OCCURRENCES = 5
SEED = 20261123
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

# ---- generation ---------------------------------------------------------------------------

# (low, high as written, high reached by '*' and 'a/s', names or None)
FIELDS = {
    "second": (0, 59, 59, None),
    "minute": (0, 59, 59, None),
    "hour": (0, 23, 23, None),
    "dom": (1, 31, 31, None),
    "month": (1, 12, 12, MONTHS),
    "dow": (0, 7, 6, DAYS),
}


def value_text(rng, field, v):
    names = FIELDS[field][3]
    if names and rng.random() < 0.3 and (field == "month" or v <= 6):
        name = names[v - 1] if field == "month" else names[v]
        return rng.choice([name, name.lower(), name.capitalize()])
    return str(v)


def item(rng, field):
    low, high, star_high, _ = FIELDS[field]
    kind = rng.choice(["value", "value", "range", "range_step", "from_step"])
    if kind == "value":
        return value_text(rng, field, rng.randint(low, high))
    if kind == "from_step":
        a = rng.randint(low, star_high)
        return f"{value_text(rng, field, a)}/{rng.randint(1, max(1, (star_high - low + 1) // 2))}"
    a = rng.randint(low, high)
    b = rng.randint(a, min(high, a + (high - low) // 2 + 1))
    text = f"{value_text(rng, field, a)}-{value_text(rng, field, b)}" if not (field == "dow" and b == 7) else f"{a}-{b}"
    if kind == "range_step":
        text += f"/{rng.randint(1, max(1, b - a + 1))}"
    return text


def field_text(rng, field, star_weight):
    low, _, star_high, _ = FIELDS[field]
    roll = rng.random()
    if roll < star_weight:
        return "*"
    if roll < star_weight + 0.1:
        return f"*/{rng.randint(2, max(2, (star_high - low + 1) // 2))}"
    if roll < star_weight + 0.3:
        return ",".join(item(rng, field) for _ in range(rng.randint(2, 3)))
    return item(rng, field)


def generate(rng):
    with_seconds = rng.random() < 0.3
    fields = [
        field_text(rng, "minute", 0.15),
        field_text(rng, "hour", 0.3),
        field_text(rng, "dom", 0.5),
        field_text(rng, "month", 0.6),
        field_text(rng, "dow", 0.55),
    ]
    if with_seconds:
        fields.insert(0, field_text(rng, "second", 0.2))
    return " ".join(fields)


def starts(rng):
    fixed = [calendar.timegm((2026, 11, 23, 12, 34, 56)), calendar.timegm((2024, 2, 28, 23, 59, 59))]
    return fixed + [rng.randint(calendar.timegm((2000, 1, 1, 0, 0, 0)), calendar.timegm((2035, 1, 1, 0, 0, 0)))]


# ---- the oracle ---------------------------------------------------------------------------


def expand(text, field):
    low, high, star_high, names = FIELDS[field]
    values, star = set(), text[0] in "*?"

    def number(token):
        if names and token.upper() in names:
            return names.index(token.upper()) + (1 if field == "month" else 0)
        return int(token)

    for part in text.split(","):
        body, _, step = part.partition("/")
        step = int(step) if step else 1
        if body == "*":
            a, b = low, star_high
        elif "-" in body:
            a, b = (number(x) for x in body.split("-"))
            if field == "dow" and b == 0 and a > 0:
                b = 7
        else:
            a = number(body)
            b = a if not part.count("/") else high  # cronie: a/s runs to the written maximum
        values.update(range(a, b + 1, step))
    if field == "dow" and 7 in values:
        values.discard(7)
        values.add(0)
    return values, star


def oracle(expr, start, count):
    fields = expr.split()
    if len(fields) == 5:
        fields.insert(0, "0")
    names = ["second", "minute", "hour", "dom", "month", "dow"]
    (secs, _), (mins, _), (hours, _), (doms, dom_star), (months, _), (dows, dow_star) = (
        expand(t, n) for t, n in zip(fields, names))
    secs, mins, hours = sorted(secs), sorted(mins), sorted(hours)
    out = []
    day = datetime.datetime.fromtimestamp(start, datetime.timezone.utc).date()
    for _ in range(366 * 30):
        if day.month in months:
            dom_ok = day.day in doms
            dow_ok = (day.weekday() + 1) % 7 in dows
            if (dom_ok and dow_ok) if (dom_star or dow_star) else (dom_ok or dow_ok):
                base = calendar.timegm(day.timetuple())
                for h in hours:
                    for m in mins:
                        for s in secs:
                            t = base + h * 3600 + m * 60 + s
                            if t > start:
                                out.append(t)
                                if len(out) == count:
                                    return out
        day += datetime.timedelta(days=1)
    return out


# ---- DST: zones with unusual transitions, judged by cronie's rule ------------------------

DST_ZONES = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "America/Santiago", "Pacific/Chatham"]
DST_EXPRESSIONS = ["0 0 * * *", "30 2 * * *", "*/15 * * * *", "45 1 * * *", "0 3 * * *", "15,45 1-3 * * *",
                   "*/20 2 * * *", "30 23 * * *", "0 * * * *", "59 1 * * 0", "10 2,3 * * *", "*/30 0-3 * * *"]
DST_WINDOW = 26 * 3600  # seconds each side of a transition


@functools.lru_cache(maxsize=1 << 20)
def offset(zone, t):
    return int(datetime.datetime.fromtimestamp(t, zone).utcoffset().total_seconds())


def transitions(zone_name, year):
    """UTC instants (whole minutes) in `year` where the zone's offset changes."""
    zone, found = ZoneInfo(zone_name), []
    t, end = calendar.timegm((year, 1, 1, 0, 0, 0)), calendar.timegm((year + 1, 1, 1, 0, 0, 0))
    while t < end:
        if offset(zone, t) != offset(zone, t + 3600):
            low, high = t, t + 3600  # offset(low) != offset(high): bisect to the minute
            while high - low > 60:
                mid = (low + high) // 2 // 60 * 60
                low, high = (mid, high) if offset(zone, mid) == offset(zone, low) else (low, mid)
            found.append(high)
        t += 3600
    return found


def dst_cases():
    cases = []
    for zone in DST_ZONES:
        for change in transitions(zone, 2026):
            for expr in DST_EXPRESSIONS:
                cases.append({"expr": expr, "start": change - DST_WINDOW - 1, "count": 1000, "zone": zone,
                              "end": change + DST_WINDOW})
    return cases


def dst_oracle(case):
    """cronie's rule read literally, minute by minute of real time: a wall time that
    matches fires; a repeated one (fall-back) fires again only for wild expressions; a
    wall time skipped by a gap fires once at the gap's end for the others."""
    minute, hour, dom, month, dow = case["expr"].split()
    sets = [expand(text, name)[0] for text, name in
            zip([minute, hour, dom, month, dow], ["minute", "hour", "dom", "month", "dow"])]
    wild = minute[0] == "*" or hour[0] == "*"
    zone = ZoneInfo(case["zone"])

    def matches(local):
        wall = datetime.datetime.fromtimestamp(local, datetime.timezone.utc)
        return (wall.minute in sets[0] and wall.hour in sets[1] and wall.day in sets[2] and wall.month in sets[3]
                and (wall.weekday() + 1) % 7 in sets[4])

    out = set()
    first = (case["start"] // 60 + 1) * 60
    for t in range(first, case["end"], 60):
        here = offset(zone, t)
        if not matches(t + here):
            continue
        repeated = any(offset(zone, t - back) == here + back for back in range(900, 3 * 3600 + 1, 900))
        if wild or not repeated:
            out.add(t)
    if not wild:
        for t in range(first, case["end"], 60):
            before, here = offset(zone, t - 1), offset(zone, t)
            if here > before and any(matches(t + before + k) for k in range(0, here - before, 60)):
                out.add(t)
    return sorted(out)


# ---- the implementations under comparison -------------------------------------------------


def run_sked(driver, cases):
    lines = "".join(f"{c['expr']}\t{c['start']}\t{c['count']}" + (f"\t{c['zone']}\t{c['end']}" if "zone" in c else "")
                    + "\n" for c in cases)
    result = subprocess.run([driver], input=lines, capture_output=True, text=True, check=True)
    answers = []
    for line in result.stdout.splitlines():
        answers.append(line if line.startswith("error") else [int(x) for x in line.split()])
    return answers


def run_croniter(case):
    from croniter import croniter

    fields = case["expr"].split()
    if len(fields) == 6:  # croniter reads seconds as the sixth field
        fields = fields[1:] + fields[:1]
    try:
        zone = ZoneInfo(case["zone"]) if "zone" in case else datetime.timezone.utc
        start = datetime.datetime.fromtimestamp(case["start"], zone)
        it = croniter(" ".join(fields), start)
        out = []
        while len(out) < case["count"]:
            t = int(it.get_next(float))
            if t >= case.get("end", t + 1):
                break
            out.append(t)
        return out
    except Exception as e:  # croniter raises several types for bad input
        return f"error: {type(e).__name__}"


def run_node(cases):
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"sked-differential-{os.getpid()}.json")
    with open(path, "w") as f:
        json.dump(cases, f)
    try:
        result = subprocess.run(["node", os.path.join(HERE, "reference.mjs"), path],
                                capture_output=True, text=True, check=True)
    finally:
        os.unlink(path)
    return json.loads(result.stdout)


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe(answer):
    return answer if isinstance(answer, str) else " ".join(iso(t) for t in answer)


def main():
    driver, update = sys.argv[1], "--update" in sys.argv
    rng = random.Random(SEED)
    cases = []
    expressions = set()
    while len(expressions) < EXPRESSIONS:
        expr = generate(rng)
        if expr in expressions:
            continue
        expressions.add(expr)
        for start in starts(rng):
            cases.append({"expr": expr, "start": start, "count": OCCURRENCES})

    calendar_cases = len(cases)
    cases += dst_cases()
    sked = run_sked(driver, cases)
    node = run_node(cases)
    failures, never, disagreements = [], 0, {}
    for case, ours, theirs in zip(cases, sked, node):
        truth = dst_oracle(case) if "zone" in case else oracle(case["expr"], case["start"], case["count"])
        if ours == "error never_fires" and not truth:
            never += 1
            continue
        if ours != truth:
            failures.append(f"sked {case['expr']!r} {case.get('zone', '')} after {iso(case['start'])}: "
                            f"{describe(ours)} != {describe(truth)}")
        answers = {"croniter": run_croniter(case), **theirs}
        for reference, answer in answers.items():
            if answer != truth:
                key = (reference, case["expr"] + (f" in {case['zone']}" if "zone" in case else ""), iso(case["start"]))
                disagreements[key] = describe(answer) + " | expected " + describe(truth)

    known = {}
    if os.path.exists(KNOWN):
        with open(KNOWN) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                reference, expr, start, answer, reason = line.rstrip("\n").split("\t")
                known[(reference, expr, start)] = (answer, reason)

    if update:
        write_known(disagreements, known)
    else:
        for key in sorted(set(disagreements) - set(known)):
            failures.append(f"new disagreement: {key[0]} on {key[1]!r} after {key[2]}: {disagreements[key]}")
        for key in sorted(set(known) - set(disagreements)):
            failures.append(f"recorded disagreement no longer occurs (update the list): {key}")

    by_reference = {}
    for reference, _, _ in disagreements:
        by_reference[reference] = by_reference.get(reference, 0) + 1
    print(f"{len(expressions)} expressions, {calendar_cases} UTC cases, {OCCURRENCES} occurrences each, and "
          f"{len(cases) - calendar_cases} DST cases (each a 52-hour window around a 2026 transition) "
          f"in {', '.join(DST_ZONES)}; "
          f"{never} cases of expressions that never fire (sked rejects them, the oracle finds none)")
    for reference in ("croniter", "cron-parser", "croner"):
        print(f"  {reference}: disagrees with the Vixie oracle in {by_reference.get(reference, 0)} cases (recorded)")
    for failure in failures[:40]:
        print("FAIL", failure)
    compared = len(cases) - never
    print(f"sked: {compared - sum(f.startswith('sked') for f in failures)} passed, "
          f"{sum(f.startswith('sked') for f in failures)} failed")
    print(f"{len(cases) - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def classify(reference, expr, answer):
    """The Vixie-rule reason a reference's answer is wrong, for the recorded list."""
    if " in " in expr:
        return "DST: does not follow cronie's rule for gaps and overlaps"
    fields = expr.split()
    if len(fields) == 6:
        fields = fields[1:]
    dom, dow = fields[2], fields[4]
    both_restricted = dom[0] != "*" and dow[0] != "*"
    if answer.startswith("error"):
        return "rejects a valid expression"
    if reference == "croniter" and "/" in dom:
        return "croniter 1.3.5: steps in day-of-month"
    if reference == "croniter" and ("0-6" in dow or "7" in dow):
        return "croniter 1.3.5: 0-6 or 7 in day-of-week"
    if re.search(r"(^|,)[0-9A-Za-z]+/[0-9]", dow):
        return "'a/s' in day-of-week: cronie runs it to 7 (= Sunday), this reference stops at 6 or errs"
    if both_restricted:
        return "day-of-month/day-of-week combination differs from Vixie OR"
    if dom.startswith("*/") or dow.startswith("*/"):
        return "a star-led step in a day field is not treated as unrestricted-AND"
    return "differs from Vixie semantics"


def write_known(disagreements, known):
    with open(KNOWN, "w") as f:
        f.write("# Cases where a reference implementation disagrees with the Vixie oracle (and sked).\n"
                "# Written by `run.py DRIVER --update`; each line reviewed. Columns:\n"
                "# reference\texpression\tstart\tits answer | the Vixie answer\treason\n")
        for key in sorted(disagreements):
            answer = disagreements[key]
            reason = known.get(key, (None, None))[1] or classify(key[0], key[1], answer)
            f.write("\t".join([*key, answer, reason]) + "\n")


if __name__ == "__main__":
    sys.exit(main())
