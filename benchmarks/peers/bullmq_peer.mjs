// One replica of the peer suite's work on BullMQ (benchmarks/peers/README.md):
//
//     node bullmq_peer.mjs PORT JOBS CONCURRENCY WORK_MS LOG NAME
//
// Upserts JOBS job schedulers, each with the pattern "* * * * * *" (every second; every
// replica upserts them all, as every instance of a service would), and runs a Worker
// with CONCURRENCY on the same queue. Each run sleeps WORK_MS. Every start and end is
// appended to LOG as "S|E <job> <slot ms> <now ms> <NAME>": the slot is the scheduler's
// time for the run, from its job id "repeat:<scheduler>:<ms>". Runs until SIGTERM.
import fs from 'node:fs';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';

const [port, jobs, concurrency, workMs, logPath, name] = process.argv.slice(2);
// BullMQ 6 takes a client (ioredis is an optional peer); a Worker blocks on its own
// connection, so each gets one, as BullMQ's docs show.
const client = () => new IORedis({ host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null });
const log = fs.openSync(logPath, 'a');
const line = (what, job, slot) => fs.writeSync(log, `${what} ${job} ${slot} ${Date.now()} ${name}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const queue = new Queue('peers', { connection: client() });
for (let i = 0; i < Number(jobs); ++i) {
  await queue.upsertJobScheduler(`j${i}`, { pattern: '* * * * * *' }, { name: 'tick', data: { job: `j${i}` } });
}
const worker = new Worker(
  'peers',
  async (job) => {
    const slot = job.id.slice(job.id.lastIndexOf(':') + 1);
    line('S', job.data.job, slot);
    if (Number(workMs) > 0) await sleep(Number(workMs));
    line('E', job.data.job, slot);
  },
  { connection: client(), concurrency: Number(concurrency) },
);
const stop = async () => {
  await worker.close();
  await queue.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
