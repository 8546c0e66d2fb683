/**
 * `npm run bench` (GraphQL part): the `jobs` query on BENCH_GRAPHQL_JOBS indexed jobs (default 100k) with 50
 * concurrent clients over HTTP on loopback, p50/p99 latency, for SQLite and PostgreSQL (goal p99 <= 25 ms). The
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
import { benchJobRow, STATUSES } from "./graphqlJobs.ts";

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

const JOBS = Number(process.env.BENCH_GRAPHQL_JOBS ?? 100_000);
const CLIENTS = 50;
const SECONDS = Number(process.env.BENCH_GRAPHQL_SECONDS ?? 10);
const QUERY = `query($status: JobStatus, $after: String) { jobsPage(where: { status: $status }, first: 20, after: $after) { nodes { id status maxFee lockedPrice assignee postedAt } pageInfo { hasNextPage endCursor } } }`;
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

/** Starts the server on the database, runs the clients for SECONDS, stops the server. */
async function measure(databaseUrl: string, responseCache: boolean) {
  const flags = process.env.BENCH_SERVER_NODE_FLAGS?.split(" ") ?? COORDINATOR_NODE_FLAGS;
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
  const deadline = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      let after: string | null = null;
      while (performance.now() < deadline) {
        const started = performance.now();
        const body = (await post(
          port,
          JSON.stringify({ query: QUERY, variables: { status: STATUSES[c % 5], after } }),
        )) as {
          data?: { jobsPage: { pageInfo: { hasNextPage: boolean; endCursor: string } } };
          errors?: unknown;
        };
        latencies.push(performance.now() - started);
        if (body.errors || !body.data) errors++;
        // Page on through the list, then start again: queries are not all for the first page.
        after =
          body.data?.jobsPage.pageInfo.hasNextPage && latencies.length % 10 !== 0
            ? body.data.jobsPage.pageInfo.endCursor
            : null;
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

console.log(`${JOBS} jobs, ${CLIENTS} concurrent clients, ${SECONDS} s per run\n`);
const providers = PROVIDERS.filter((p) => (process.env.BENCH_GRAPHQL_DB ?? p) === p);
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
  for (const cached of [false, true]) {
    const r = await measure(scratch.url, cached);
    console.log(
      `${provider.padEnd(10)} response cache ${cached ? "on " : "off"}: ${r.queries} queries (${(r.queries / SECONDS).toFixed(0)}/s), p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms (goal <= 25 ms), errors ${r.errors}; server peak RSS ${r.serverRss.toFixed(0)} MiB`,
    );
  }
  console.log(`${provider.padEnd(10)} seeded ${JOBS} jobs in ${seedSeconds.toFixed(1)} s`);
  await scratch.drop();
}
process.exit(0);
