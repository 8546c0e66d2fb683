/**
 * The coordinator's Prometheus metrics, served at /metrics.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ResponseCache } from "./graphql/responseCache.ts";

/** A counter read from a running total when scraped. */
function totalCounter(registry: Registry, name: string, help: string, read: () => number) {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

export function createCoordinatorMetrics(responseCache?: ResponseCache) {
  const registry = new Registry();
  if (responseCache) {
    const stats = () => responseCache.stats();
    totalCounter(
      registry,
      "pm_coordinator_graphql_cache_hits_total",
      "GraphQL answers served from the cache",
      () => stats().hits,
    );
    totalCounter(
      registry,
      "pm_coordinator_graphql_cache_misses_total",
      "GraphQL queries executed",
      () => stats().misses,
    );
    totalCounter(
      registry,
      "pm_coordinator_graphql_cache_dropped_total",
      "Kept GraphQL answers dropped because a commit changed what they read",
      () => stats().dropped,
    );
    new Gauge({
      name: "pm_coordinator_graphql_cache_entries",
      help: "GraphQL answers kept",
      registers: [registry],
      collect() {
        this.set(stats().entries);
      },
    });
  }
  return {
    registry,
    indexedBlock: new Gauge({
      name: "pm_coordinator_indexed_block",
      help: "Last block indexed",
      registers: [registry],
    }),
    headBlock: new Gauge({
      name: "pm_coordinator_head_block",
      help: "Chain head seen by the indexer",
      registers: [registry],
    }),
    lagBlocks: new Gauge({
      name: "pm_coordinator_lag_blocks",
      help: "Blocks between the head and the last indexed block",
      registers: [registry],
    }),
    eventsIndexed: new Counter({
      name: "pm_coordinator_events_indexed_total",
      help: "Market events written",
      registers: [registry],
    }),
    reorgs: new Counter({ name: "pm_coordinator_reorgs_total", help: "Reorgs rewound", registers: [registry] }),
    rpcRetries: new Counter({
      name: "pm_coordinator_rpc_retries_total",
      help: "JSON-RPC requests retried or narrowed (rate limits, dropped connections, timeouts, getLogs ranges too wide)",
      labelNames: ["source", "kind"],
      registers: [registry],
    }),
    httpSeconds: new Histogram({
      name: "pm_coordinator_http_seconds",
      help: "HTTP request duration by route",
      labelNames: ["route", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}
export type CoordinatorMetrics = ReturnType<typeof createCoordinatorMetrics>;
