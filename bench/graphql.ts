/**
 * `npm run bench` (GraphQL part): on BENCH_GRAPHQL_JOBS indexed jobs (default 100k), 50 concurrent clients over HTTP
 * on loopback, p50/p99 latency, for SQLite and PostgreSQL, of two workloads: paging through jobs by status with
 * cursors (goal p99 <= 25 ms with the response cache), and all-distinct queries, random filters at random places
 * in The Graph's lists and the cursor list, which no cache helps (goal p99 <= 50 ms). The
 * server (bench/graphqlServer.ts) runs in its own process, started as the coordinator is (COORDINATOR_NODE_FLAGS),
 * with its response cache off and then on, while it commits a block of job changes a second as the indexer would;
 * its peak memory (goal <= 300 MiB) is read from /proc.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { fileURLToPath } from "node:url";
import { openDatabase } from "../coordinator/db/client.ts";
import { migrate } from "../coordinator/db/engine.ts";
import { PROVIDERS } from "../coordinator/db/schema.ts";
import { scratchDatabase } from "../coordinator/db/scratch.ts";
import { COORDINATOR_NODE_FLAGS } from "../coordinator/runtime.ts";
import { testCircuit } from "../dev/coordinatorRows.ts";
import { seededRandom, type Random } from "../dev/random.ts";
import { benchAddress, benchJobRow, FIRST_POSTED_AT, MAX_FEE, STATUSES } from "./graphqlJobs.ts";

const SERVER = fileURLToPath(new URL("./graphqlServer.ts", import.meta.url));
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** One POST over a kept-alive connection; returns the parsed body. */
function post(port: number, body: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/graphql",
        method: "POST",
        agent,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve(JSON.parse(text)));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const peakRssMiB = (pid: number) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

/** A setting from the environment, or the bench stops naming it, what it holds and what it takes. */
function setting<T>(name: string, fallback: T, parse: (text: string) => T | undefined, takes: string): T {
  const text = process.env[name];
  if (text === undefined) return fallback;
  const value = parse(text);
  if (value !== undefined) return value;
  console.error(`${name}=${JSON.stringify(text)}: ${name} takes ${takes} (unset, the default is ${fallback})`);
  process.exit(2);
}
const wholeNumber = (min: number) => (text: string) =>
  /^\d+$/.test(text) && Number(text) >= min ? Number(text) : undefined;
const oneOf =
  <T extends string>(choices: readonly T[]) =>
  (text: string) =>
    choices.find((c) => c === text);

const JOBS = setting("BENCH_GRAPHQL_JOBS", 100_000, wholeNumber(1), "a whole number of jobs, at least 1");
const CLIENTS = 50;
const SECONDS = setting("BENCH_GRAPHQL_SECONDS", 10, wholeNumber(1), "a whole number of seconds, at least 1");
/**
 * Seconds the clients run before latencies count: a coordinator runs for days, and its first second after a start
 * (code compiled as it first runs, statements prepared, query documents parsed and validated) is not what its
 * clients see after; on this bench the first second's p99 was 387 ms and the next ones' 55 to 115 ms.
 */
const WARMUP_SECONDS = setting(
  "BENCH_GRAPHQL_WARMUP_SECONDS",
  2,
  wholeNumber(0),
  "a whole number of seconds (0: none)",
);
/** BENCH_GRAPHQL_DB=sqlite or postgresql, BENCH_GRAPHQL_WORKLOAD=paging or distinct: only that one. */
const ONLY_DB = setting("BENCH_GRAPHQL_DB", "both", oneOf([...PROVIDERS]), PROVIDERS.join(" or "));
const ONLY_WORKLOAD = setting(
  "BENCH_GRAPHQL_WORKLOAD",
  "both",
  oneOf(["paging", "distinct"] as const),
  "paging or distinct",
);
const QUERY = `query($status: JobStatus, $after: String) { jobsPage(where: { status: $status }, first: 20, after: $after) { nodes { id status maxFee lockedPrice assignee postedAt } pageInfo { hasNextPage endCursor } } }`;
const JOB_FIELDS = "id status maxFee lockedPrice assignee postedAt";

/**
 * The all-distinct workload: every query a random filter and a random place in its list (The Graph's shape, and the
 * cursor list after a random cursor), so that no two are alike and the response cache cannot help. The filters are
 * the ones a client pages by (status, requester, prover, a fee bound, id order), each from a random point in time.
 */
function distinctQuery(rng: Random, jobs: number): { query: string; variables: Record<string, unknown> } {
  const before = FIRST_POSTED_AT + 1 + rng.int(jobs);
  const status = rng.pick(STATUSES);
  switch (rng.int(6)) {
    case 0:
      return {
        query: `query($s: JobStatus, $t: Int) { jobs(where: { status: $s, postedAt_lt: $t }, orderBy: postedAt, orderDirection: desc, first: 20) { ${JOB_FIELDS} } }`,
        variables: { s: status, t: before },
      };
    case 1:
      return {
        query: `query($r: Bytes, $t: Int) { jobs(where: { requester: $r, postedAt_lt: $t }, orderBy: postedAt, orderDirection: desc, first: 20) { ${JOB_FIELDS} } }`,
        variables: { r: benchAddress(rng.int(97)), t: before },
      };
    case 2:
      return {
        query: `query($p: Bytes, $t: Int) { jobs(where: { assignee: $p, status: Proved, postedAt_gt: $t }, orderBy: postedAt, first: 20) { ${JOB_FIELDS} } }`,
        variables: { p: benchAddress(0x100 + rng.int(13)), t: before },
      };
    case 3:
      return {
        query: `query($s: JobStatus, $fee: BigInt, $t: Int) { jobs(where: { status: $s, maxFee_gt: $fee, postedAt_lt: $t }, orderBy: postedAt, orderDirection: desc, first: 20) { ${JOB_FIELDS} } }`,
        variables: { s: status, fee: String(rng.int(MAX_FEE)), t: before },
      };
    case 4:
      return {
        query: `query($id: ID) { jobs(where: { id_gt: $id }, first: 20) { ${JOB_FIELDS} } }`,
        variables: { id: String(1 + rng.int(jobs)) },
      };
    default:
      return {
        query: `query($s: JobStatus, $after: String) { jobsPage(where: { status: $s }, first: 20, after: $after) { nodes { ${JOB_FIELDS} } pageInfo { endCursor } } }`,
        variables: { s: status, after: Buffer.from(`${before}:${before - FIRST_POSTED_AT}`).toString("base64url") },
      };
  }
}

type Workload = "paging" | "distinct";
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** Starts the server on the database, runs the clients for WARMUP_SECONDS and then SECONDS (measured), stops it. */
async function measure(databaseUrl: string, responseCache: boolean, workload: Workload) {
  const flags = process.env.BENCH_SERVER_NODE_FLAGS?.split(" ").filter((flag) => flag !== "") ?? COORDINATOR_NODE_FLAGS;
  const server = spawn(process.execPath, [...flags, SERVER], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      NODE_ENV: "production",
      BENCH_RESPONSE_CACHE: responseCache ? "1" : "0",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port: number = await new Promise((resolve) =>
    server.stdout!.on("data", (d: Buffer) => {
      const m = /listening (\d+)/.exec(String(d));
      if (m) resolve(Number(m[1]));
    }),
  );
  const latencies: number[] = [];
  let errors = 0;
  const measuredFrom = performance.now() + WARMUP_SECONDS * 1000;
  const deadline = measuredFrom + SECONDS * 1000;
  const record = (started: number) => {
    if (started >= measuredFrom) latencies.push(performance.now() - started);
  };
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      let after: string | null = null;
      let pages = 0;
      const rng = seededRandom(c + 1);
      while (performance.now() < deadline) {
        if (workload === "distinct") {
          const started = performance.now();
          const body = (await post(port, JSON.stringify(distinctQuery(rng, JOBS)))) as {
            data?: unknown;
            errors?: unknown;
          };
          record(started);
          if (body.errors || !body.data) {
            errors++;
            if (errors === 1) console.log(`  first error: ${JSON.stringify(body.errors)}`);
          }
          continue;
        }
        const started = performance.now();
        const body = (await post(
          port,
          JSON.stringify({ query: QUERY, variables: { status: STATUSES[c % 5], after } }),
        )) as {
          data?: { jobsPage: { pageInfo: { hasNextPage: boolean; endCursor: string } } };
          errors?: unknown;
        };
        record(started);
        if (body.errors || !body.data) errors++;
        // Page on through the list, then start again: queries are not all for the first page.
        pages++;
        after =
          body.data?.jobsPage.pageInfo.hasNextPage && pages % 10 !== 0 ? body.data.jobsPage.pageInfo.endCursor : null;
      }
    }),
  );
  const serverRss = peakRssMiB(server.pid!);
  let stats = "";
  server.stdout!.on("data", (d: Buffer) => (stats += String(d)));
  server.kill("SIGTERM");
  await new Promise((r) => server.once("exit", r));
  console.log(`  server at exit: ${/stats (.*)/.exec(stats)?.[1] ?? "(no stats)"}`);
  return {
    queries: latencies.length,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    serverRss,
  };
}

console.log(`${JOBS} jobs, ${CLIENTS} concurrent clients, ${SECONDS} s measured per run after ${WARMUP_SECONDS} s\n`);
const providers = PROVIDERS.filter((p) => ONLY_DB === "both" || ONLY_DB === p);
for (const provider of providers) {
  const scratch = await scratchDatabase(provider);
  await migrate(scratch.url);
  const { db, close } = await openDatabase(scratch.url);
  await db.circuit.create({ data: testCircuit(1, "bench") });
  const seeded = performance.now();
  for (let start = 1; start <= JOBS; start += 5000) {
    const rows = Array.from({ length: Math.min(5000, JOBS - start + 1) }, (_, k) => benchJobRow(start + k));
    await db.job.createMany({ data: rows });
  }
  const seedSeconds = (performance.now() - seeded) / 1000;
  // A live database has statistics (PostgreSQL's autovacuum gathers them); a bulk load has none until analyzed.
  await db.$executeRawUnsafe("ANALYZE");

  await close();
  const runs: [Workload, boolean, string][] = [
    ["paging", false, "paging, response cache off"],
    ["paging", true, "paging, response cache on "],
    ["distinct", true, "all-distinct queries      "],
  ];
  for (const [workload, cached, label] of runs.filter(([w]) => ONLY_WORKLOAD === "both" || ONLY_WORKLOAD === w)) {
    const r = await measure(scratch.url, cached, workload);
    const goal = workload === "distinct" ? 50 : 25;
    console.log(
      `${provider.padEnd(10)} ${label}: ${r.queries} queries (${(r.queries / SECONDS).toFixed(0)}/s), p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms (goal <= ${goal} ms), errors ${r.errors}; server peak RSS ${r.serverRss.toFixed(0)} MiB`,
    );
  }
  console.log(`${provider.padEnd(10)} seeded ${JOBS} jobs in ${seedSeconds.toFixed(1)} s`);
  await scratch.drop();
}
process.exit(0);
