"""The peer suite: the same work on sked, BullMQ and APScheduler 3 + a Redis lock, on one
local redis-server this script starts and stops, printed as one table.

    /usr/bin/python3 benchmarks/peers/run.py [--sked BIN] [--jobs 100,1000,3000]
        [--seconds 60] [--stacks sked,bullmq,apscheduler] [--fault] [--work MS]

For each J and stack: J jobs, each every second, exactly once across 3 replica processes,
measured over SECONDS after a warm-up. With --fault the jobs take 300 ms (unless --work
says otherwise), replica 1 is SIGKILLed a third of the way in, at a moment it has a run in
flight, and started again half way.
What the columns mean, and where a setup may be unfair to a peer: README.md here.
"""
import argparse
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Redis:
    """A redis-server on a free loopback port, asked with redis-cli."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="sked-peers-")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--logfile", f"{self.dir}/log"])
        for _ in range(200):
            if self.ask("PING") == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer")

    def ask(self, *args):
        done = subprocess.run(["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True)
        return done.stdout.strip()

    def info(self):
        fields = {}
        for line in self.ask("INFO", "everything").splitlines():
            name, _, value = line.partition(":")
            fields[name] = value
        return fields

    def stop(self):
        self.process.terminate()
        self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def counters(info):
    """Redis CPU (µs), read events (a pipeline read at once is one: the round trips), and
    commands, the calls inside scripts included."""
    commands = sum(int(v.split("calls=")[1].split(",")[0]) for k, v in info.items() if k.startswith("cmdstat_"))
    cpu = (float(info["used_cpu_sys"]) + float(info["used_cpu_user"])) * 1e6
    return cpu, int(info["total_reads_processed"]), commands


def process_cpu_us(pid):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1e6 / TICK
    except OSError:
        return 0.0


def peak_rss_mb(pid):
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def command(stack, args, port, jobs, concurrency, work, log, name):
    common = [str(port), str(jobs), str(concurrency), str(work), log, name]
    if stack == "sked":
        return [args.sked, *common]
    if stack == "bullmq":
        return ["node", str(HERE / "bullmq_peer.mjs"), *common]
    return ["/usr/bin/python3", str(HERE / "apscheduler_peer.py"), *common]


def concurrency_for(jobs, work):
    """Threads or worker slots per replica, the same rule for every stack: twice what the
    runs due each second need (each ~10 ms of overhead on top of its work), at least 10
    (APScheduler's default pool)."""
    return max(10, round(jobs * (work + 10) / 1000 / 3 * 2))


def read_runs(paths):
    runs = {}
    for path in paths:
        if not os.path.exists(path):
            continue
        for line in open(path):
            parts = line.split()
            if len(parts) != 5:
                continue
            what, job, slot, at, who = parts
            runs.setdefault((job, int(slot)), []).append((what, int(at), who))
    return runs


def busy(log):
    """Whether a replica's log shows a run started and not ended: the kill is mid-run."""
    open_runs = set()
    for line in open(log):
        parts = line.split()
        if len(parts) == 5:
            (open_runs.add if parts[0] == "S" else open_runs.discard)((parts[1], parts[2]))
    return bool(open_runs)


def quantile(sorted_values, q):
    return sorted_values[int(q * (len(sorted_values) - 1))] if sorted_values else -1


def measure(stack, args, redis, jobs, fault):
    work = args.work if args.work is not None else (300 if fault else 0)
    concurrency = concurrency_for(jobs, work)
    redis.ask("FLUSHALL")
    redis.ask("CONFIG", "RESETSTAT")
    # The server's own CPU with no client (its timers), in the same run: a floor under
    # every stack's Redis CPU per slot, and most of it at J = 100.
    idle_before, idle_t0 = counters(redis.info())[0], time.time()
    time.sleep(2)
    idle_cpu_ms_per_s = (counters(redis.info())[0] - idle_before) / 1000 / (time.time() - idle_t0)
    work_dir = tempfile.mkdtemp(prefix=f"sked-peers-{stack}-")
    logs = [f"{work_dir}/r{i}.log" for i in range(3)]
    start = lambda i: subprocess.Popen(
        command(stack, args, redis.port, jobs, concurrency, work, logs[i], f"r{i}"), stdout=subprocess.DEVNULL)
    processes = [start(i) for i in range(3)]
    cpu_spent = [0.0] * 3
    rss = [0.0] * 3
    # Warm-up: every replica has registered its jobs when runs flow; then 3 s more.
    deadline = time.time() + 120
    while time.time() < deadline and not all(os.path.exists(p) and os.path.getsize(p) for p in logs[:1]):
        time.sleep(0.2)
    time.sleep(3)
    t0 = int(time.time()) + 1
    time.sleep(t0 - time.time())
    before = counters(redis.info())
    cpu_before = [process_cpu_us(p.pid) for p in processes]
    killed_at = None
    while time.time() < t0 + args.seconds:
        elapsed = time.time() - t0
        if fault and killed_at is None and elapsed >= args.seconds / 3 and (
                busy(logs[0]) or elapsed >= args.seconds / 2):
            cpu_spent[0] += process_cpu_us(processes[0].pid) - cpu_before[0]
            rss[0] = max(rss[0], peak_rss_mb(processes[0].pid))
            processes[0].kill()
            processes[0].wait()
            killed_at = time.time()
        if fault and killed_at is not None and processes[0].poll() is not None and elapsed >= args.seconds / 2:
            processes[0] = start(0)
            cpu_before[0] = process_cpu_us(processes[0].pid)
        time.sleep(0.05)
    t1 = time.time()
    after = counters(redis.info())
    for i, p in enumerate(processes):
        cpu_spent[i] += process_cpu_us(p.pid) - cpu_before[i]
        rss[i] = max(rss[i], peak_rss_mb(p.pid))
    # Runs still in flight finish (and a restarted replica recovers what died) before the
    # logs are read; the Redis figures are those of [t0, t1].
    time.sleep(args.settle)
    for p in processes:
        p.send_signal(signal.SIGTERM)
    for p in processes:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
    runs = read_runs(logs)
    if args.keep:
        print(f"({stack}: logs kept in {work_dir})", file=sys.stderr)
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    first, last = t0 * 1000, int(t1 - 2) * 1000  # slots due inside the window
    seconds = (last - first) // 1000
    in_window = {k: v for k, v in runs.items() if first <= k[1] < last}
    starts = {k: [e for e in v if e[0] == "S"] for k, v in in_window.items()}
    executed = sum(1 for v in starts.values() if v)
    # Twice: two runs of the slot that both ended (one that died and ran again is not).
    duplicates = sum(1 for v in in_window.values() if sum(1 for e in v if e[0] == "E") > 1)
    misses = jobs * seconds - executed
    never_completed = sum(1 for v in in_window.values() if v and not any(e[0] == "E" for e in v))
    late = sorted(min(e[1] for e in v) - k[1] for k, v in starts.items() if v)
    # Runs in flight on the killed replica; of those, the ones another run completed later.
    died, recovered_after = 0, []
    if killed_at is not None:
        for k, v in in_window.items():
            if any(e[0] == "S" and e[2] == "r0" and e[1] < killed_at * 1000 for e in v) and not any(
                    e[0] == "E" and e[2] == "r0" and e[1] < killed_at * 1000 for e in v):
                died += 1
                ends = [e[1] for e in v if e[0] == "E" and e[1] >= killed_at * 1000]
                if ends:
                    recovered_after.append(min(ends) / 1000 - killed_at)
    per = lambda x: x / executed if executed else float("nan")
    # The server and client figures cover [t0, t1]: per slot due in it that ran.
    measured = sum(1 for k, v in runs.items() if t0 * 1000 <= k[1] < t1 * 1000 and any(e[0] == "S" for e in v))
    per_measured = lambda x: x / measured if measured else float("nan")
    return {
        "stack": stack, "jobs": jobs, "work": work, "concurrency": concurrency, "slots": jobs * seconds,
        "executed": executed, "duplicates": duplicates, "misses": misses, "never_completed": never_completed,
        "died": died, "recovered": len(recovered_after), "recovered_max_s": max(recovered_after, default=0.0),
        "p50": quantile(late, 0.5), "p99": quantile(late, 0.99), "max": quantile(late, 1.0),
        "round_trips": per_measured(after[1] - before[1]), "commands": per_measured(after[2] - before[2]),
        "redis_cpu_us": per_measured(after[0] - before[0]), "client_cpu_us": per_measured(sum(cpu_spent)),
        "idle_redis_cpu_ms_per_s": idle_cpu_ms_per_s,
        "rss_mb": max(rss),
        "share": [sum(1 for v in starts.values() for e in v if e[2] == f"r{i}") for i in range(3)],
    }


def versions(args):
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"
    bullmq = '"version": "?"'
    package = HERE / "node_modules/bullmq/package.json"
    if package.exists():
        bullmq = next((l.strip() for l in open(package) if l.strip().startswith('"version"')), bullmq)
    aps = out(["dpkg-query", "-W", "-f=${Version}", "python3-apscheduler"])
    pyredis = out(["dpkg-query", "-W", "-f=${Version}", "python3-redis"])
    return (f"{out(['redis-server', '--version'])}\nnode {out(['node', '--version'])}, bullmq {bullmq.split(':')[1]}"
            f"\npython3-apscheduler {aps}, python3-redis {pyredis}\nsked: {args.sked}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sked", default=str(ROOT / "build/rel/benchmarks/sked_peer"))
    parser.add_argument("--jobs", default="100,1000,3000")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--settle", type=int, default=None,
                        help="seconds after the window before the logs are read (2; 45 with --fault: a lease, and BullMQ's stall check)")
    parser.add_argument("--stacks", default="sked,bullmq,apscheduler")
    parser.add_argument("--fault", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep each run's logs, and say where")
    parser.add_argument("--work", type=int, default=None, help="ms each run takes (0; 300 with --fault)")
    args = parser.parse_args()
    if args.settle is None:
        args.settle = 45 if args.fault else 2
    if not os.access(args.sked, os.X_OK):
        sys.exit(f"no {args.sked}: build the benchmarks (cmake --build ... --target sked_peer), or give --sked")
    if "bullmq" in args.stacks and not (HERE / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    print(versions(args))
    print(f"{os.cpu_count()} cores; {args.seconds} s per run, 3 replicas{', fault run' if args.fault else ''}")
    header = (f"{'stack':<12}{'J':>6}{'conc':>5}{'slots':>8}{'dup':>5}{'miss':>6}{'lost':>5}{'p50':>6}{'p99':>6}"
              f"{'max':>7}{'rt/slot':>8}{'cmd/slot':>9}{'rCPU us':>8}{'idle':>6}{'cCPU us':>8}{'RSS MB':>7}")
    if args.fault:
        header += f"{'died':>5}{'recov':>6}{'by s':>6}"
    header += "  runs per replica"
    print(header)
    redis = Redis()
    rows = []
    try:
        for jobs in [int(j) for j in args.jobs.split(",")]:
            for stack in args.stacks.split(","):
                r = measure(stack, args, redis, jobs, args.fault)
                rows.append(r)
                row = (f"{r['stack']:<12}{r['jobs']:>6}{r['concurrency']:>5}{r['slots']:>8}{r['duplicates']:>5}"
                       f"{r['misses']:>6}{r['never_completed']:>5}{r['p50']:>6}{r['p99']:>6}{r['max']:>7}"
                       f"{r['round_trips']:>8.2f}{r['commands']:>9.1f}{r['redis_cpu_us']:>8.0f}"
                       f"{r['idle_redis_cpu_ms_per_s']:>6.1f}{r['client_cpu_us']:>8.0f}{r['rss_mb']:>7.0f}")
                if args.fault:
                    row += f"{r['died']:>5}{r['recovered']:>6}{r['recovered_max_s']:>6.1f}"
                row += "  " + "/".join(str(n) for n in r["share"])
                print(row, flush=True)
    finally:
        redis.stop()
    idle = [r["stack"] for r in rows if r["executed"] == 0]
    if idle:
        sys.exit(f"no run at all on: {', '.join(idle)}")


if __name__ == "__main__":
    main()
