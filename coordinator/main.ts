/**
 * The coordinator process: applies migrations, then runs the indexer (to the confirmed head, polling) beside the
 * REST server. Configuration comes from the environment, validated at start with errors naming the variable.
 *
 *   DATABASE_URL     file:./coordinator.db (default, SQLite) or postgresql://...
 *   RPC_URL          the chain's JSON-RPC endpoint                      MARKET_ADDRESS  the market contract
 *   START_BLOCK      the market's deployment block (default 0)          CONFIRMATIONS   default 2
 *   DEPLOYMENT       an Ignition deployment folder: gives MARKET_ADDRESS and START_BLOCK when they are not set
 *   RANGE_SIZE       blocks per eth_getLogs (default 2000)              POLL_MS         default 1000
 *   HOST, PORT       where REST listens (default 127.0.0.1:8080)        PUBLIC_URL      the URL clients use
 */
import { z } from "zod";
import { createProvider } from "../common/chain/provider.ts";
import { readIgnitionDeployment } from "../common/deploy/ignitionDeployment.ts";
import { createLogger } from "../common/log.ts";
import { openDatabase } from "./db/client.ts";
import { migrate } from "./db/engine.ts";
import { createJobsPubSub } from "./graphql/resolvers.ts";
import { createResponseCache } from "./graphql/responseCache.ts";
import { createIndexer } from "./indexer/indexer.ts";
import { createCoordinatorMetrics } from "./metrics.ts";
import { buildHttpApp } from "./http/server.ts";

const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^(file:|postgres(ql)?:\/\/)/, "use file:<path> (SQLite) or postgresql://...")
    .default("file:./coordinator.db"),
  RPC_URL: z.string().url(),
  MARKET_ADDRESS: z.string().regex(/^0x[0-9a-fA-F]{40}$/, "expected a 0x-prefixed 20-byte hex address"),
  START_BLOCK: z.coerce.number().int().min(0).default(0),
  CONFIRMATIONS: z.coerce.number().int().min(0).default(2),
  RANGE_SIZE: z.coerce.number().int().min(1).max(100_000).default(2000),
  POLL_MS: z.coerce.number().int().min(50).default(1000),
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  PUBLIC_URL: z.string().url().optional(),
});

const logger = createLogger({ component: "coordinator" });
const fromDeployment: Record<string, string> = {};
if (process.env.DEPLOYMENT) {
  try {
    const deployment = readIgnitionDeployment(process.env.DEPLOYMENT);
    fromDeployment.MARKET_ADDRESS = deployment.market;
    fromDeployment.START_BLOCK = String(deployment.startBlock);
  } catch (e) {
    console.error(`invalid coordinator configuration:\n  DEPLOYMENT: ${(e as Error).message}`);
    process.exit(2);
  }
}
const parsed = envSchema.safeParse({ ...fromDeployment, ...process.env });
if (!parsed.success) {
  console.error(
    `invalid coordinator configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`,
  );
  process.exit(2);
}
const env = parsed.data;

const applied = await migrate(env.DATABASE_URL);
logger.info("database ready", { migrationsApplied: applied });
const { db, close } = await openDatabase(env.DATABASE_URL);
const provider = createProvider(env.RPC_URL, env.POLL_MS);
const pubsub = createJobsPubSub();
const indexer = createIndexer({
  db,
  provider,
  marketAddress: env.MARKET_ADDRESS,
  startBlock: env.START_BLOCK,
  confirmations: env.CONFIRMATIONS,
  rangeSize: env.RANGE_SIZE,
  onJobsChanged: (jobIds) => jobIds.forEach((id) => pubsub.publish("jobChanged", id)),
});
const responseCache = createResponseCache();
const metrics = createCoordinatorMetrics(responseCache);
const server = buildHttpApp({ db, publicUrl: env.PUBLIC_URL, pubsub, responseCache, metrics }).listen(
  env.PORT,
  env.HOST,
  () => {
    const { port } = server.address() as { port: number };
    logger.info("REST listening", { url: `http://${env.HOST}:${port}` });
  },
);

let lastIndexed = (await db.indexerCheckpoint.findUnique({ where: { id: 1 } }))?.lastBlock ?? env.START_BLOCK - 1;
let running = true;
const stop = () => {
  running = false;
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
while (running) {
  try {
    const result = await indexer.syncOnce();
    if (result !== null) {
      // No GraphQL answer that read what this commit changed may be served again (after a rewind, none at all).
      responseCache.invalidate(result.changes);
      logger.info(result.rewoundTo !== undefined ? "reorg rewound" : "indexed range", { ...result });
      if (result.rewoundTo !== undefined) metrics.reorgs.inc();
      metrics.eventsIndexed.inc(result.events);
      lastIndexed = result.to;
      metrics.indexedBlock.set(lastIndexed);
    } else {
      await new Promise((r) => setTimeout(r, env.POLL_MS));
    }
    const head = Number(await provider.send("eth_blockNumber", []));
    metrics.headBlock.set(head);
    metrics.lagBlocks.set(Math.max(0, head - lastIndexed));
  } catch (e) {
    logger.warn("indexing failed; retrying", { error: (e as Error).message });
    await new Promise((r) => setTimeout(r, env.POLL_MS));
  }
}
server.close();
provider.destroy();
await close();
logger.info("coordinator stopped");
process.exit(0);
