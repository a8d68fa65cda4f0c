// The npm references for sked's differential tests: reads a JSON array of
// {expr, start, count} (start in Unix seconds, UTC) from the file named by argv[2] and
// prints, per case, {"cron-parser": [...], "croner": [...]} (Unix seconds) or an
// "error: ..." string in place of a list.
import { readFileSync } from "node:fs";
import parser from "cron-parser";
import { Cron } from "croner";

const cases = JSON.parse(readFileSync(process.argv[2], "utf8"));

function cronParser({ expr, start, count }) {
  try {
    const it = parser.parseExpression(expr, { currentDate: new Date(start * 1000), utc: true });
    const out = [];
    for (let i = 0; i < count; i++) out.push(it.next().getTime() / 1000);
    return out;
  } catch (e) {
    return "error: " + e.message;
  }
}

function croner({ expr, start, count }) {
  try {
    const job = new Cron(expr, { timezone: "Etc/UTC", paused: true });
    return job.nextRuns(count, new Date(start * 1000)).map((d) => d.getTime() / 1000);
  } catch (e) {
    return "error: " + e.message;
  }
}

process.stdout.write(JSON.stringify(cases.map((c) => ({ "cron-parser": cronParser(c), croner: croner(c) }))));
