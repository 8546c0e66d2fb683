/**
 * Prometheus metrics and the health endpoint, served on loopback by default. Token amounts are in the token's base
 * units (as floats: Prometheus has no other numbers); circuits are labelled by their on-chain id.
 */
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { earnedPerProvingSecond } from "./pricing.ts";

export function createMetrics() {
  const registry = new Registry();
  const m = {
    registry,
    jobsSeen: new Counter({ name: "pm_worker_jobs_seen_total", help: "Open jobs discovered", registers: [registry] }),
    jobsSkipped: new Counter({
      name: "pm_worker_jobs_skipped_total",
      help: "Jobs not claimed, by reason",
      labelNames: ["reason"],
      registers: [registry],
    }),
    preflightRetries: new Counter({
      name: "pm_worker_preflight_retries_total",
      help: "Preflights that could not run (inputs unavailable, witness failure) and will be retried after a backoff",
      registers: [registry],
    }),
    jobsClaimed: new Counter({ name: "pm_worker_jobs_claimed_total", help: "Jobs claimed", registers: [registry] }),
    claimPrice: new Gauge({
      name: "pm_worker_claim_price",
      help: "Price locked by the worker's latest claim of the circuit's jobs (token base units)",
      labelNames: ["circuit"],
      registers: [registry],
    }),
    claimedPrices: new Counter({
      name: "pm_worker_claimed_price_total",
      help: "Prices locked by the worker's claims, summed (token base units); over pm_worker_jobs_claimed_total: the average",
      labelNames: ["circuit"],
      registers: [registry],
    }),
    reservationPrice: new Gauge({
      name: "pm_worker_reservation_price",
      help: "The least the worker claims a job of the circuit for (token base units): `status` shows how it is made up",
      labelNames: ["circuit"],
      registers: [registry],
    }),
    earned: new Counter({
      name: "pm_worker_earned_total",
      help: "Prices paid for the worker's accepted proofs (token base units)",
      labelNames: ["circuit"],
      registers: [registry],
    }),
    earnedPerProvingSecond: new Gauge({
      name: "pm_worker_earned_per_proving_second",
      help: "Prices paid for the circuit's accepted proofs over the seconds they took to prove, since the data folder began (token base units per second)",
      labelNames: ["circuit"],
      registers: [registry],
    }),
    jobsProved: new Counter({
      name: "pm_worker_jobs_proved_total",
      help: "Proofs accepted on chain",
      registers: [registry],
    }),
    jobsFailed: new Counter({
      name: "pm_worker_jobs_failed_total",
      help: "Claims that ended without a proof",
      labelNames: ["reason"],
      registers: [registry],
    }),
    provingSeconds: new Histogram({
      name: "pm_worker_proving_seconds",
      help: "Seconds per proof (proving only)",
      labelNames: ["circuit", "backend"],
      buckets: [0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128],
      registers: [registry],
    }),
    stakeFree: new Gauge({
      name: "pm_worker_stake_free",
      help: "Free stake (token base units)",
      registers: [registry],
    }),
    stakeLocked: new Gauge({
      name: "pm_worker_stake_locked",
      help: "Locked stake (token base units)",
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "pm_worker_queue_depth",
      help: "Proving tasks waiting for a slot",
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: "pm_worker_claims_in_flight",
      help: "Claims held and not yet settled",
      registers: [registry],
    }),
    backendUp: new Gauge({
      name: "pm_worker_backend_up",
      help: "1 while a prover backend is in service",
      labelNames: ["backend"],
      registers: [registry],
    }),
    circuitUp: new Gauge({
      name: "pm_worker_circuit_up",
      help: "1 while a served circuit's jobs are claimed; 0 when its verifiers are refused or it is out of service (/health says why)",
      labelNames: ["circuit"],
      registers: [registry],
    }),
    headBlock: new Gauge({ name: "pm_worker_head_block", help: "Last block read", registers: [registry] }),
    reorgs: new Counter({
      name: "pm_worker_reorgs_total",
      help: "Reorgs the job book was rewound for",
      registers: [registry],
    }),
    claimsRefused: new Counter({
      name: "pm_worker_claims_refused_total",
      help: "Claims the market refused: at gas estimation (nothing spent) or mined and reverted (gas spent, a lost race)",
      labelNames: ["where"],
      registers: [registry],
    }),
    claimsDropped: new Counter({
      name: "pm_worker_claims_dropped_total",
      help: "Claims the worker recorded that the chain does not show as its own (removed by a reorg, or never landed)",
      labelNames: ["why"],
      registers: [registry],
    }),
    rpcRetries: new Counter({
      name: "pm_worker_rpc_retries_total",
      help: "JSON-RPC requests retried after a backoff (rate limits, dropped connections, timeouts, ranges too wide)",
      labelNames: ["stage", "kind"],
      registers: [registry],
    }),
    stageRestarts: new Counter({
      name: "pm_worker_stage_restarts_total",
      help: "Passes of a worker stage that failed; the supervisor restarted the stage after a backoff",
      labelNames: ["stage"],
      registers: [registry],
    }),
  };
  return {
    ...m,
    /** A claim confirmed, at the price it locked. */
    claimed(circuitId: bigint | number, price: bigint) {
      const labels = { circuit: String(circuitId) };
      m.jobsClaimed.inc();
      m.claimPrice.set(labels, Number(price));
      m.claimedPrices.inc(labels, Number(price));
    },
    /** The circuit's earnings per proving second, from its totals (the claim store's: they survive restarts). */
    earnings(circuitId: bigint | number, earned: bigint, provingSeconds: number) {
      const perSecond = earnedPerProvingSecond(earned, provingSeconds);
      if (perSecond !== null) m.earnedPerProvingSecond.set({ circuit: String(circuitId) }, Number(perSecond));
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

export function serveMetrics(
  metrics: Metrics,
  host: string,
  port: number,
  health: () => { ok: boolean; [k: string]: unknown },
): Promise<Server> {
  const server = createServer(async (req, res) => {
    if (req.url === "/metrics") {
      res.writeHead(200, { "content-type": metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
    } else if (req.url === "/health") {
      const h = health();
      res.writeHead(h.ok ? 200 : 503, { "content-type": "application/json" });
      res.end(JSON.stringify(h, (_k, v) => (typeof v === "bigint" ? v.toString() : v)));
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve(server));
  });
}
