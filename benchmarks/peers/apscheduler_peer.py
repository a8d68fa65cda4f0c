"""One replica of the peer suite's work on APScheduler 3 with a Redis lock per slot
(benchmarks/peers/README.md):

    /usr/bin/python3 apscheduler_peer.py PORT JOBS POOL WORK_MS LOG NAME

JOBS jobs on a BackgroundScheduler, each with CronTrigger(second='*'), run by a thread
pool of POOL (APScheduler's default is 10). APScheduler 3 has no distributed mode, so a
run first takes a Redis lock for its slot, SET "aps:<job>:<slot>" NX PX 60000, and runs
only if it got it: the way a team using it does. The slot is the run time APScheduler
scheduled (an executor that hands it to the function). Each run sleeps WORK_MS. Every
start and end is appended to LOG as "S|E <job> <slot ms> <now ms> <NAME>". Runs until
SIGTERM.
"""
import signal
import sys
import threading
import time

import redis
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

port, jobs, pool, work_ms, log_path, name = sys.argv[1:7]
work = int(work_ms) / 1000
client = redis.Redis(host="127.0.0.1", port=int(port))
log = open(log_path, "a", buffering=1)
log_lock = threading.Lock()


def line(what, job, slot_ms):
    with log_lock:
        log.write(f"{what} {job} {slot_ms} {time.time_ns() // 1_000_000} {name}\n")


def run(job, slot_ms):
    if not client.set(f"aps:{job}:{slot_ms}", name, nx=True, px=60000):
        return
    line("S", job, slot_ms)
    if work:
        time.sleep(work)
    line("E", job, slot_ms)


def tick():
    """The job's function for APScheduler's checks; SlotExecutor calls run() instead."""


class SlotExecutor(ThreadPoolExecutor):
    """The pool executor, but the function gets its job's id and scheduled time."""

    def _do_submit_job(self, job, run_times):
        slot_ms = int(run_times[-1].timestamp() * 1000)
        future = self._pool.submit(run, job.id, slot_ms)
        future.add_done_callback(lambda f: self._run_job_success(job.id, []))


scheduler = BackgroundScheduler(executors={"default": SlotExecutor(int(pool))})
for i in range(int(jobs)):
    scheduler.add_job(tick, "cron", second="*", id=f"j{i}")
scheduler.start()
stopped = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stopped.set())
signal.signal(signal.SIGINT, lambda *_: stopped.set())
stopped.wait()
scheduler.shutdown(wait=False)
