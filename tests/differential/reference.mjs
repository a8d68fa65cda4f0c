// The npm references for sked's differential tests: reads a JSON array of
// {expr, start, count[, zone, end]} (instants in Unix seconds) from the file named by
// argv[2] and prints, per case, {"cron-parser": [...], "croner": [...]}: the next
// occurrences (at most count; with a zone, in that IANA zone and only before end) in
// Unix seconds, or an "error: ..." string in place of a list.
import { readFileSync } from "node:fs";
import parser from "cron-parser";
import { Cron } from "croner";

const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));

const before = (end) => (t) => end === undefined || t < end;

function cronParser({ expr, start, count, zone, end }) {
  try {
    const options = zone ? { currentDate: new Date(start * 1000), tz: zone } : { currentDate: new Date(start * 1000), utc: true };
    const it = parser.parseExpression(expr, options);
    const out = [];
    for (let i = 0; i < count; i++) {
      const t = it.next().getTime() / 1000;
      if (!before(end)(t)) break;
      out.push(t);
    }
    return out;
  } catch (e) {
    return "error: " + e.message;
  }
}

function croner({ expr, start, count, zone, end }) {
  try {
    const job = new Cron(expr, { timezone: zone || "Etc/UTC", paused: true });
    const out = [];
    for (let at = new Date(start * 1000); out.length < count; ) {
      at = job.nextRun(at);
      if (at === null || !before(end)(at.getTime() / 1000)) break;
      out.push(at.getTime() / 1000);
    }
    return out;
  } catch (e) {
    return "error: " + e.message;
  }
}

process.stdout.write(JSON.stringify(cases.map((c) => ({ "cron-parser": cronParser(c), croner: croner(c) }))));
