/**
 * `npm run bench` (GraphQL part): the `jobs` query on BENCH_GRAPHQL_JOBS indexed jobs (default 100k) with 50
 * concurrent clients over HTTP on loopback, p50/p99 latency, for SQLite and PostgreSQL (goal p99 <= 25 ms), and
 * the peak memory of this process, which runs the server and the clients (an upper bound on the server's).
 */
import type { Server } from "node:http";
import { openDatabase } from "../coordinator/db/client.ts";
import { migrate } from "../coordinator/db/engine.ts";
import { PROVIDERS } from "../coordinator/db/schema.ts";
import { scratchDatabase } from "../coordinator/db/scratch.ts";
import { buildApp } from "../coordinator/rest/app.ts";

const JOBS = Number(process.env.BENCH_GRAPHQL_JOBS ?? 100_000);
const CLIENTS = 50;
const SECONDS = Number(process.env.BENCH_GRAPHQL_SECONDS ?? 10);
const STATUSES = ["Open", "Claimed", "Proved", "Cancelled", "Expired"];
const QUERY = `query($status: JobStatus, $after: String) { jobs(where: { status: $status }, first: 20, after: $after) { nodes { id status fee assignee postedAt } pageInfo { hasNextPage endCursor } } }`;
const percentile = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

console.log(`${JOBS} jobs, ${CLIENTS} concurrent clients, ${SECONDS} s per database\n`);
for (const provider of PROVIDERS) {
  const scratch = await scratchDatabase(provider);
  await migrate(scratch.url);
  const { db, close } = await openDatabase(scratch.url);
  await db.circuit.create({
    data: {
      id: 1,
      name: "bench",
      verifier: "0x",
      system: "groth16",
      nPublicOutputs: 0,
      nPublicInputs: 2,
      registrant: "0x",
      manifestHash: "0x",
      artifactsURI: "x",
      registeredAtBlock: 1,
    },
  });
  const seeded = performance.now();
  for (let start = 1; start <= JOBS; start += 5000) {
    const rows = Array.from({ length: Math.min(5000, JOBS - start + 1) }, (_, k) => {
      const i = start + k;
      return {
        id: String(i),
        circuitId: 1,
        requester: `0x${(i % 97).toString(16)}`,
        status: STATUSES[i % 5],
        fee: String(i),
        bond: "1",
        provingWindow: 60,
        expiresAt: 2e9,
        inputsCommitment: "0xc",
        inputsHash: "0xh",
        inputsURI: "u",
        postedAtBlock: i,
        postedAt: 1_700_000_000 + i,
      };
    });
    await db.job.createMany({ data: rows });
  }
  const seedSeconds = (performance.now() - seeded) / 1000;

  const server: Server = await new Promise((resolve) => {
    const s = buildApp({ db }).listen(0, "127.0.0.1", () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/graphql`;
  const latencies: number[] = [];
  let errors = 0;
  const deadline = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      let after: string | null = null;
      while (performance.now() < deadline) {
        const started = performance.now();
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: QUERY, variables: { status: STATUSES[c % 5], after } }),
        });
        const body = (await response.json()) as {
          data?: { jobs: { pageInfo: { hasNextPage: boolean; endCursor: string } } };
          errors?: unknown;
        };
        latencies.push(performance.now() - started);
        if (body.errors || !body.data) errors++;
        // Page on through the list, then start again: queries are not all for the first page.
        after =
          body.data?.jobs.pageInfo.hasNextPage && latencies.length % 10 !== 0
            ? body.data.jobs.pageInfo.endCursor
            : null;
      }
    }),
  );
  server.close();
  const rss = process.resourceUsage().maxRSS / 1024;
  console.log(
    `${provider.padEnd(10)} ${latencies.length} queries (${(latencies.length / SECONDS).toFixed(0)}/s), p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (goal <= 25 ms), errors ${errors}; seeded in ${seedSeconds.toFixed(1)} s; peak RSS so far ${rss.toFixed(0)} MiB`,
  );
  await close();
  await scratch.drop();
}
process.exit(0);
