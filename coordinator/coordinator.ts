/**
 * The coordinator as one object: it applies the database's migrations and opens it, then runs the indexer (to the
 * confirmed head, polling) beside the HTTP server (REST, GraphQL, metrics). Each commit the indexer makes drops the
 * GraphQL answers that read what it changed, and is announced to GraphQL subscriptions. coordinator/main.ts makes
 * one from the environment and stops it on SIGTERM or SIGINT.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createProvider } from "../common/chain/provider.ts";
import { errorCode, isRetryable, messageOf } from "../common/errors.ts";
import { createLogger, type Logger } from "../common/log.ts";
import { openDatabase } from "./db/client.ts";
import { migrate } from "./db/engine.ts";
import { JobChangeFeed } from "./graphql/jobChangeFeed.ts";
import { createResponseCache } from "./graphql/responseCache.ts";
import { buildHttpApp } from "./http/server.ts";
import { createIndexer, type SyncResult } from "./indexer/indexer.ts";
import { createCoordinatorMetrics } from "./metrics.ts";

export interface CoordinatorConfig {
  /** file:<path> (SQLite) or postgresql://... */
  databaseUrl: string;
  /** The chain's JSON-RPC endpoint. */
  rpcUrl: string;
  marketAddress: string;
  /** The market's deployment block: indexing starts here. */
  startBlock: number;
  /** How many blocks behind the head the indexer stays. */
  confirmations: number;
  /** Blocks per eth_getLogs request (and per database transaction). */
  rangeSize: number;
  /** How long the loop waits once it has reached the confirmed head, or after a failure; also the RPC polling. */
  pollMs: number;
  /** Where the HTTP server listens; port 0 takes a free one. */
  host: string;
  port: number;
  /** The URL clients reach the coordinator at, for the `uri` of uploads; by default the host each request names. */
  publicUrl?: string;
  /** By default JSON lines on stderr, with component "coordinator". */
  logger?: Logger;
}

export interface Coordinator {
  /** Where the HTTP server listens (http://host:port); known once started. */
  readonly url: string;
  /** Listens, then runs the poll loop until stopped; resolves once the server listens. */
  start(): Promise<void>;
  /**
   * One step of the poll loop, for a coordinator whose loop does not run: indexes the next range (or rewinds a
   * reorg), drops the GraphQL answers it changed, and updates the metrics. Null when there was nothing to index.
   */
  syncOnce(): Promise<SyncResult | null>;
  /**
   * Ends the loop (after the step in progress, without waiting out its poll interval), then closes the HTTP server
   * with its open connections (subscriptions included), the provider and the database. Once: later calls await it.
   */
  stop(): Promise<void>;
}

export async function createCoordinator(config: CoordinatorConfig): Promise<Coordinator> {
  const logger = config.logger ?? createLogger({ component: "coordinator" });
  const applied = await migrate(config.databaseUrl);
  logger.info("database ready", { migrationsApplied: applied });
  const { db, close } = await openDatabase(config.databaseUrl);
  const responseCache = createResponseCache();
  const metrics = createCoordinatorMetrics(responseCache);
  const provider = createProvider(config.rpcUrl, config.pollMs, {
    onRetry: ({ kind }) => metrics.rpcRetries.inc({ source: "transport", kind }),
  });
  const jobChanges = new JobChangeFeed();
  const indexer = createIndexer({
    db,
    provider,
    marketAddress: config.marketAddress,
    startBlock: config.startBlock,
    confirmations: config.confirmations,
    rangeSize: config.rangeSize,
    onJobsChanged: (jobIds) => jobChanges.publish(jobIds),
    onRetry: ({ kind }) => metrics.rpcRetries.inc({ source: "reader", kind }),
  });
  let lastIndexed = (await db.indexerCheckpoint.findUnique({ where: { id: 1 } }))?.lastBlock ?? config.startBlock - 1;

  async function step(): Promise<SyncResult | null> {
    const result = await indexer.syncOnce();
    if (result !== null) {
      // No GraphQL answer that read what this commit changed may be served again (after a rewind, none at all).
      responseCache.invalidate(result.changes);
      logger.info(result.rewoundTo !== undefined ? "reorg rewound" : "indexed range", { ...result });
      if (result.rewoundTo !== undefined) metrics.reorgs.inc();
      metrics.eventsIndexed.inc(result.events);
      lastIndexed = result.to;
      metrics.indexedBlock.set(lastIndexed);
    }
    const head = Number(await provider.send("eth_blockNumber", []));
    metrics.headBlock.set(head);
    metrics.lagBlocks.set(Math.max(0, head - lastIndexed));
    return result;
  }

  let server: Server | undefined;
  let url: string | undefined;
  let running = false;
  let loop: Promise<void> | undefined;
  let wake = () => {};
  let stopped: Promise<void> | undefined;
  /** The loop's wait between steps, cut short by stop(). */
  const pause = () =>
    new Promise<void>((resolve) => {
      if (!running) return resolve();
      const timer = setTimeout(resolve, config.pollMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  async function run(): Promise<void> {
    while (running) {
      try {
        if ((await step()) === null) await pause();
      } catch (e) {
        // A fatal failure (a reorg deeper than the blocks kept) will not pass by itself: said at error level, with
        // what to do, on every try, and /health stays behind; a passing one is a warning.
        if (isRetryable(e)) logger.warn("indexing failed; retrying", { error: messageOf(e), code: errorCode(e) });
        else
          logger.error("indexing cannot go on: re-index into a fresh database from START_BLOCK", {
            error: messageOf(e),
            code: errorCode(e),
          });
        await pause();
      }
    }
  }

  return {
    get url() {
      if (url === undefined) throw new Error("the coordinator has not started: no URL yet");
      return url;
    },
    async start() {
      if (server !== undefined || stopped !== undefined) throw new Error("a coordinator starts once");
      const listening = buildHttpApp({ db, publicUrl: config.publicUrl, jobChanges, responseCache, metrics }).listen(
        config.port,
        config.host,
      );
      server = listening;
      await new Promise<void>((resolve, reject) => {
        listening.once("listening", resolve);
        listening.once("error", reject);
      });
      url = `http://${config.host}:${(listening.address() as AddressInfo).port}`;
      logger.info("REST listening", { url });
      running = true;
      loop = run();
    },
    async syncOnce() {
      if (running) throw new Error("syncOnce: the coordinator's own loop is running");
      return step();
    },
    stop() {
      stopped ??= (async () => {
        running = false;
        wake();
        await loop;
        if (server?.listening) {
          const closing = server;
          await new Promise<void>((resolve) => {
            closing.close(() => resolve());
            // Open GraphQL subscriptions and kept-alive connections would hold the server open.
            closing.closeAllConnections();
          });
        }
        provider.destroy();
        await close();
        logger.info("coordinator stopped");
      })();
      return stopped;
    },
  };
}
