/**
 * The coordinator's HTTP API (REST + GraphQL) alone, on the database DATABASE_URL names, for the GraphQL
 * benchmark: it runs in its own process so that the clients' work and memory are not counted as the server's.
 * Prints `listening <port>` on stdout once it accepts connections.
 *
 * While it serves, it stands in for the indexer, which runs in the same process: every BENCH_COMMIT_MS (default
 * 1000, a block a second) it commits BENCH_JOBS_PER_COMMIT (default 20) job changes in one transaction, half new
 * jobs posted and half recent jobs moving on (Open to Claimed, Claimed to Proved), and reports them to the
 * response cache as the indexer does. The writes happen with the cache on or off alike.
 */
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { openDatabase } from "../coordinator/db/client.ts";
import { createResponseCache } from "../coordinator/graphql/responseCache.ts";
import { changeRecorder } from "../coordinator/commitChanges.ts";
import { buildHttpApp } from "../coordinator/http/server.ts";
import { benchJobRow, FIRST_POSTED_AT } from "./graphqlJobs.ts";

const { db } = await openDatabase(process.env.DATABASE_URL!);
// Where a slow answer's time went: the event loop's delays (a long synchronous stretch holds every client up) and
// garbage collection's pauses.
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const gc = { count: 0, ms: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count++;
    gc.ms += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
  }
}).observe({ entryTypes: ["gc"] });
// BENCH_RESPONSE_CACHE=1: as the coordinator process runs it.
const responseCache = process.env.BENCH_RESPONSE_CACHE === "1" ? createResponseCache() : undefined;

const commitMs = Number(process.env.BENCH_COMMIT_MS ?? 1000);
const perCommit = Number(process.env.BENCH_JOBS_PER_COMMIT ?? 20);
// Carries on from the newest job (an earlier run on this database may have posted some).
const newest = await db.job.aggregate({ _max: { postedAtBlock: true, postedAt: true } });
let lastId = newest._max.postedAtBlock ?? 0;
let postedAt = newest._max.postedAt ?? FIRST_POSTED_AT;
const commits = { count: 0, ms: 0 };
const NEXT: Record<string, string> = { Open: "Claimed", Claimed: "Proved" };

async function commit() {
  const started = performance.now();
  const changed = changeRecorder();
  await db.$transaction(async (tx) => {
    postedAt++;
    for (let k = 0; k < perCommit / 2; k++)
      changed.job(await tx.job.create({ data: benchJobRow(++lastId, "Open", postedAt) }));
    for (let k = 0; k < perCommit / 2; k++) {
      const id = String(lastId - Math.floor(Math.random() * 2000));
      const job = await tx.job.findUnique({ where: { id } });
      const status = job && NEXT[job.status];
      if (!status) continue;
      const { assignee, lockedPrice } = benchJobRow(Number(id), status);
      changed.job(await tx.job.update({ where: { id }, data: { status, assignee, lockedPrice } }));
      changed.provers = true;
    }
  });
  responseCache?.invalidate(changed.changes());
  commits.count++;
  commits.ms += performance.now() - started;
}
let committing = Promise.resolve();
const ticker = setInterval(() => (committing = committing.then(commit)), commitMs);

const server = buildHttpApp({ db, responseCache }).listen(0, "127.0.0.1", () => {
  console.log(`listening ${(server.address() as { port: number }).port}`);
});
process.once("SIGTERM", async () => {
  clearInterval(ticker);
  await committing;
  // For the benchmark's report: where the memory is, how often the cache answered, what the commits cost.
  const mib = (n: number) => Math.round(n / 2 ** 20);
  const m = process.memoryUsage();
  console.log(
    `stats ${JSON.stringify({ heapUsed: mib(m.heapUsed), heapTotal: mib(m.heapTotal), external: mib(m.external), rss: mib(m.rss), commits: commits.count, commitMsMean: Math.round(commits.ms / Math.max(1, commits.count)), loopDelayMs: { p50: Math.round(loopDelay.percentile(50) / 1e6), p99: Math.round(loopDelay.percentile(99) / 1e6), max: Math.round(loopDelay.max / 1e6) }, gc: { count: gc.count, ms: Math.round(gc.ms), maxMs: Math.round(gc.maxMs) }, cache: responseCache?.stats() ?? null })}`,
  );
  server.close(() => process.exit(0));
});
