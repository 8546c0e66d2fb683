/**
 * The coordinator's HTTP API (REST + GraphQL) alone, on the database DATABASE_URL names, for the GraphQL
 * benchmark: it runs in its own process so that the clients' work and memory are not counted as the server's.
 * Prints `listening <port>` on stdout once it accepts connections.
 */
import { openDatabase } from "../coordinator/db/client.ts";
import { createResponseCache } from "../coordinator/graphql/responseCache.ts";
import { buildApp } from "../coordinator/rest/app.ts";

const { db } = await openDatabase(process.env.DATABASE_URL!);
// BENCH_RESPONSE_CACHE=1: as the coordinator process runs it.
const responseCache = process.env.BENCH_RESPONSE_CACHE === "1" ? createResponseCache() : undefined;
// As an indexer committing a range every BENCH_INVALIDATE_MS (default 1000: a block a second with market events in
// every block), the cache is dropped that often.
const invalidateMs = Number(process.env.BENCH_INVALIDATE_MS ?? 1000);
if (responseCache) setInterval(() => responseCache.invalidate(), invalidateMs).unref();
const server = buildApp({ db, responseCache }).listen(0, "127.0.0.1", () => {
  console.log(`listening ${(server.address() as { port: number }).port}`);
});
process.once("SIGTERM", () => {
  // For the benchmark's report: where the memory is, and how often the cache answered.
  const mib = (n: number) => Math.round(n / 2 ** 20);
  const m = process.memoryUsage();
  console.log(
    `stats ${JSON.stringify({ heapUsed: mib(m.heapUsed), heapTotal: mib(m.heapTotal), external: mib(m.external), arrayBuffers: mib(m.arrayBuffers), rss: mib(m.rss), cache: responseCache?.stats() ?? null })}`,
  );
  server.close(() => process.exit(0));
});
