/**
 * The worker: discovers Open jobs from the market's events (eth_getLogs from a stored checkpoint, run every poll
 * interval and at once when a WebSocket log subscription reports something new), decides
 * which to take (policy), preflights them, claims, proves in parallel slots (earliest deadline first), checks each
 * proof against the verification key and submits it. Claims are recorded before they are sent, so a restart
 * resumes them; on SIGTERM it stops claiming and settles what it holds.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Wallet } from "ethers";
import { type LogSubscription, subscribeToLogs } from "../../common/chain/logSubscription.ts";
import { createProvider } from "../../common/chain/provider.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import { explainRevert } from "../../common/contracts/revert.ts";
import { parseInputsDocument } from "../../common/inputs/document.ts";
import { JobBook, type JobView, parseMarketLogs } from "../../common/market/jobBook.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { encodeProof } from "../../common/proofs/encoding.ts";
import { snarkjsProver } from "../../common/proofs/prove.ts";
import type { ServedCircuit, WorkerConfig } from "./config.ts";
import type { Logger } from "../../common/log.ts";
import type { Metrics } from "./metrics.ts";
import { createBackends } from "./backends/index.ts";
import { createTxQueue } from "./pipeline/chainTx.ts";
import { type CircuitTrust, checkServedCircuits, NoTrustedCircuitError } from "./pipeline/circuitCheck.ts";
import { createBackoff } from "./pipeline/backoff.ts";
import { attemptKey, jobsToReassign } from "./pipeline/keeper.ts";
import { evaluate } from "./pipeline/policy.ts";
import { preflight } from "./pipeline/preflight.ts";
import { isVerifierRefusal, reactToRefusedSubmission, type RefusalContext } from "./pipeline/refusal.ts";
import { MIN_ABANDON_SECONDS, submitUntilSettled } from "./pipeline/submission.ts";
import { createProverPool } from "./prover/pool.ts";
import { type ClaimRecord, openStore } from "./store.ts";
import { clearCommand, readVerifierCode } from "./trust/verdicts.ts";

const LOG_RANGE = 2_000;

export interface WorkerCommon {
  config: WorkerConfig;
  circuits: ServedCircuit[];
  wallet: Wallet;
  logger: Logger;
  metrics: Metrics;
}

export function createWorker({ config, circuits, wallet, logger, metrics }: WorkerCommon) {
  const provider = createProvider(config.rpcUrl, config.pollIntervalMs);
  const signer = wallet.connect(provider);
  const market = connectMarket(config.marketAddress, signer);
  const store = openStore(config.dataDir);
  const pool = createProverPool(config.slots);
  const send = createTxQueue();
  const book = new JobBook();
  for (const view of store.loadBook()) book.jobs.set(view.jobId, view);
  const backends = createBackends(config, pool);
  /** Backends that produced a proof failing verification: no more claims for their circuits. */
  const outOfService = new Map<string, string>();
  /** Circuits whose verifiers this worker does not trust (start-up check, or a refused valid proof), with the reason:
   *  no more claims of their jobs (a refusal's verdict is also stored: later starts refuse the circuit too). */
  const circuitsOutOfService = new Map<number, string>();
  /** Jobs already logged as not claimed because their circuit is out of service (one line per job, not per tick). */
  const notedOutOfService = new Set<bigint>();
  let circuitTrust: CircuitTrust[] = [];
  const inFlight = new Map<bigint, Promise<void>>();
  /** Job attempts (attemptKey) this keeper has tried to reassign; forgotten once the attempt is over. */
  const reassigned = new Set<string>();
  /** Jobs whose preflight could not run: not taken again before their next-attempt time. */
  const retries = createBackoff<bigint>();
  const vkeys = new Map<string, unknown>();
  const provingSeconds = new Map<number, number>();
  let claiming = true;
  let lastTick = 0;
  let subscription: LogSubscription | null = null;
  /** Cuts the current pause between ticks short (new logs arrived, or a stop was asked for); a wake during a tick
   *  makes the next pause end at once. */
  let woken = false;
  let cutPause: (() => void) | null = null;
  const wake = () => {
    woken = true;
    cutPause?.();
  };
  let stopped: () => void;
  const done = new Promise<void>((r) => (stopped = r));

  const now = async () => (await provider.getBlock("latest"))!.timestamp;
  /** A contract's refusal with its arguments, wherever ethers put it (a mined revert is replayed); null otherwise. */
  const refusalOf = (e: unknown) => explainRevert(e, provider).catch(() => null);
  const reasonOf = async (e: unknown) => (await refusalOf(e)) ?? (e as Error).message;
  // Expected seconds per proof: what this process has seen, else what `bench` measured, else the configured guess.
  const estimate = (c: ServedCircuit) =>
    provingSeconds.get(c.circuitId) ?? store.bench(c.circuitId, c.backend) ?? config.policy.provingSecondsEstimate;
  const circuitOf = (id: bigint) => circuits.find((c) => BigInt(c.circuitId) === id);

  async function discover(): Promise<void> {
    const head = await provider.getBlockNumber();
    let from = (store.checkpoint() ?? config.startBlock - 1) + 1;
    while (from <= head) {
      const to = Math.min(head, from + LOG_RANGE - 1);
      const logs = await provider.getLogs({ address: config.marketAddress, fromBlock: from, toBlock: to });
      const touched = book.apply(parseMarketLogs(market.interface, logs));
      for (const j of touched)
        if (j.status === "Open" && j.attempt === 0n && j.postedAtBlock >= from) metrics.jobsSeen.inc();
      store.saveBook(to, touched);
      from = to + 1;
    }
    metrics.headBlock.set(head);
  }

  function verifyingKey(circuit: ServedCircuit): unknown {
    let vkey = vkeys.get(circuit.files.vkey);
    if (vkey === undefined) {
      vkey = JSON.parse(readFileSync(circuit.files.vkey, "utf8"));
      vkeys.set(circuit.files.vkey, vkey);
    }
    return vkey;
  }

  /** The circuit's verifiers as the start-up check read them. */
  function verifiersOf(circuit: ServedCircuit) {
    const checked = circuitTrust.find((t) => t.circuitId === circuit.circuitId);
    return { verifier: checked?.verifier ?? null, batchVerifier: checked?.batchVerifier ?? null };
  }

  /**
   * Stops claiming the circuit's jobs at once, and stores the verdict with the code its verifiers have now, so that
   * later starts refuse the circuit while that code stays (trust/verdicts.ts); resolves once it is stored.
   */
  async function takeCircuitOutOfService(
    circuit: ServedCircuit,
    reason: string,
    evidence: { jobId: bigint; txHash: string | null },
  ): Promise<void> {
    circuitsOutOfService.set(circuit.circuitId, reason);
    metrics.circuitUp.set({ circuit: String(circuit.circuitId) }, 0);
    const fields = { circuitId: circuit.circuitId, reason, clear: clearCommand(circuit.circuitId) };
    logger.warn("circuit out of service: no more claims of its jobs, after restarts too, until cleared", fields);
    const { verifier, batchVerifier } = verifiersOf(circuit);
    try {
      if (verifier === null) throw new Error("the circuit's verifier address is not known");
      const code = await readVerifierCode(provider, verifier, batchVerifier);
      store.putVerdict({ circuitId: circuit.circuitId, code, reason, ...evidence, at: Date.now() });
    } catch (e) {
      logger.error("could not store the circuit's verdict: a restart would serve it again", {
        ...fields,
        error: (e as Error).message,
      });
    }
  }

  /** Whether a circuit's jobs may be claimed; a job not claimed for its circuit is logged once, not every tick. */
  function circuitInService(circuit: ServedCircuit, jobId: bigint): boolean {
    const reason = circuitsOutOfService.get(circuit.circuitId);
    if (reason === undefined) return true;
    if (!notedOutOfService.has(jobId)) {
      notedOutOfService.add(jobId);
      logger.info("job not claimed: its circuit is out of service", { jobId, circuitId: circuit.circuitId, reason });
    }
    return false;
  }

  async function abandon(record: ClaimRecord, reason: string): Promise<void> {
    const log = logger.child({ jobId: record.jobId });
    try {
      await (await send(() => market.abandon(record.jobId, record.view.terms))).wait();
      store.setClaimStatus(record.jobId, "abandoned", { error: reason });
      metrics.jobsFailed.inc({ reason: "abandoned" });
      log.warn("abandoned claim for the smaller slash", { reason });
    } catch (e) {
      const error = await reasonOf(e);
      store.setClaimStatus(record.jobId, "failed", { error: `${reason}; abandon failed: ${error}` });
      metrics.jobsFailed.inc({ reason: "abandon_failed" });
      log.error("could not abandon claim", { reason, error });
    }
  }

  const refusals: RefusalContext = {
    prover: wallet.address,
    market,
    now,
    abandon,
    markFailed: (record, reason) => {
      store.setClaimStatus(record.jobId, "failed", { error: reason });
      metrics.jobsFailed.inc({ reason: "submit_refused" });
    },
    takeOutOfService: takeCircuitOutOfService,
    verifiersOf,
    logger,
  };

  /** Proves a claimed job and submits the proof, or abandons it if the deadline cannot be met. */
  async function proveAndSubmit(
    record: ClaimRecord,
    circuit: ServedCircuit,
    deadline: number,
    witness?: Uint8Array,
  ): Promise<void> {
    const log = logger.child({ jobId: record.jobId, circuit: circuit.manifestData.name });
    if ((await now()) + estimate(circuit) > deadline)
      return abandon(record, "not enough time left before the deadline");
    if (witness === undefined) {
      const parsed = parseInputsDocument(circuit.manifestData, JSON.parse(record.inputs));
      witness = (
        await pool.run(
          {
            kind: "witness",
            wasm: circuit.files.wasm,
            inputs: parsed.signals,
          },
          deadline,
        )
      ).witness;
    }
    const zkey = circuit.files.zkey;
    const started = Date.now();
    const backend = backends.get(circuit.backend)!;
    const timeoutMs = (deadline - (await now())) * 1000;
    let reply;
    try {
      reply = await backend.prove({ system: circuit.system, zkey, witness, deadline, timeoutMs });
    } catch (e) {
      log.error("backend failed to prove", { backend: backend.name, error: (e as Error).message });
      return abandon(record, `backend ${backend.name} failed: ${(e as Error).message}`);
    }
    metrics.provingSeconds.observe({ circuit: circuit.manifestData.name, backend: backend.name }, reply.seconds);
    // Every proof is checked against the verification key before it is submitted, whatever produced it.
    const prover = snarkjsProver(circuit.system);
    let valid: boolean;
    try {
      valid = await prover.verify(verifyingKey(circuit), reply.publicSignals, reply.proof);
    } catch {
      valid = false;
    }
    if (!valid) {
      outOfService.set(backend.name, `produced an invalid proof for job ${record.jobId}`);
      metrics.backendUp.set({ backend: backend.name }, 0);
      log.error("backend produced a proof that does not verify: taken out of service, proof not submitted", {
        backend: backend.name,
      });
      return abandon(record, `backend ${backend.name} produced an invalid proof`);
    }
    const elapsed = (Date.now() - started) / 1000;
    provingSeconds.set(
      circuit.circuitId,
      Math.max(elapsed * 1.5, (provingSeconds.get(circuit.circuitId) ?? elapsed) * 0.8),
    );
    const encoded = await encodeProof(circuit.system, reply.proof, reply.publicSignals);
    store.setClaimStatus(record.jobId, "submitting");
    return submitUntilSettled({
      deadline,
      marginSeconds: Math.max(MIN_ABANDON_SECONDS, config.policy.safetyMarginSeconds),
      send: () => send(() => market.submitProof(record.jobId, record.view.terms, encoded.proof, encoded.publicSignals)),
      sent: (txHash) => store.setClaimStatus(record.jobId, "submitting", { txHash }),
      accepted: (tx) => {
        store.setClaimStatus(record.jobId, "proved");
        metrics.jobsProved.inc();
        log.info("proof accepted", { fee: record.view.terms.fee, provingSeconds: reply.seconds, tx });
      },
      refusalOf,
      refused: (refusal, txHash) => reactToRefusedSubmission({ record, circuit, refusal, txHash }, refusals),
      abandon: (reason) => abandon(record, reason),
      now,
      logger: log,
    });
  }

  /** Preflight, claim, prove, submit one job. */
  async function take(job: JobView, circuit: ServedCircuit): Promise<void> {
    const log = logger.child({ jobId: job.jobId, circuit: circuit.manifestData.name });
    const checked = await preflight(job, circuit, pool, config);
    if (!checked.ok) {
      if (checked.final) {
        store.recordSkip(job.jobId, checked.reason);
        metrics.jobsSkipped.inc({ reason: "preflight" });
        log.warn("job skipped without a claim", { reason: checked.reason });
      } else {
        const retryInMs = retries.failed(job.jobId);
        metrics.preflightRetries.inc();
        log.error("preflight could not run; will retry", { reason: checked.reason, retryInMs });
      }
      return;
    }
    retries.clear(job.jobId);
    if (!claiming) return;
    const record: ClaimRecord = {
      jobId: job.jobId,
      status: "claiming",
      view: structuredClone(job),
      inputs: checked.inputs,
      txHash: null,
      error: null,
    };
    store.putClaim(record);
    try {
      const tx = await send(() => market.claim(job.jobId, job.terms));
      store.setClaimStatus(job.jobId, "claiming", { txHash: tx.hash });
      await tx.wait();
    } catch (e) {
      const reason = await reasonOf(e);
      store.setClaimStatus(job.jobId, "lost", { error: reason });
      log.info("claim not taken", { reason });
      // The market refuses claims once a verifier's code has changed since registration: stop asking.
      if (isVerifierRefusal(reason))
        await takeCircuitOutOfService(circuit, `claim refused: ${reason}`, { jobId: job.jobId, txHash: null });
      return;
    }
    store.setClaimStatus(job.jobId, "claimed");
    metrics.jobsClaimed.inc();
    const state = await market.jobState(job.jobId);
    log.info("claimed", { deadline: state.deadline, bond: job.terms.bond });
    await proveAndSubmit({ ...record, status: "claimed" }, circuit, Number(state.deadline), checked.witness);
  }

  function track(jobId: bigint, work: Promise<void>): void {
    const p = work
      .catch((e) => logger.error("job pipeline failed", { jobId, error: (e as Error).message }))
      .finally(() => {
        inFlight.delete(jobId);
        metrics.inFlight.set(inFlight.size);
        // A slot is free: look for the next job now rather than after the poll interval.
        wake();
      });
    inFlight.set(jobId, p);
    metrics.inFlight.set(inFlight.size);
  }

  /** After a restart: resume every claim the store holds, as the chain now sees it. */
  async function reconcile(): Promise<void> {
    const me = wallet.address.toLowerCase();
    for (const record of store.claims(["claiming", "claimed", "submitting"])) {
      const state = await market.jobState(record.jobId);
      const mine = state.assignee.toLowerCase() === me;
      const circuit = circuitOf(record.view.terms.circuitId);
      if (mine && state.status === JOB_STATUS.Proved) {
        store.setClaimStatus(record.jobId, "proved");
      } else if (mine && state.status === JOB_STATUS.Claimed && circuit) {
        const distrusted = circuitsOutOfService.get(circuit.circuitId);
        if (distrusted === undefined) {
          store.setClaimStatus(record.jobId, "claimed");
          logger.info("resuming claim after restart", { jobId: record.jobId, deadline: state.deadline });
          track(record.jobId, proveAndSubmit({ ...record, status: "claimed" }, circuit, Number(state.deadline)));
        } else {
          // Refused at start-up: the worker no longer trusts the verifier that would check the proof, so the smaller
          // slash now rather than the risk of the whole bond.
          logger.warn("abandoning a claim held at restart: the worker no longer trusts its circuit's verifier", {
            jobId: record.jobId,
            circuitId: circuit.circuitId,
          });
          track(record.jobId, abandon(record, `its circuit is out of service: ${distrusted}`));
        }
      } else {
        store.setClaimStatus(record.jobId, "lost", { error: "not held after restart" });
      }
    }
  }

  async function keep(t: number): Promise<void> {
    for (const job of jobsToReassign(book.jobs.values(), { now: t, me: wallet.address, reassigned })) {
      reassigned.add(attemptKey(job));
      try {
        await (await send(() => market.reassign(job.jobId, job.terms))).wait();
        logger.info("reassigned a stalled job as keeper", { jobId: job.jobId, prover: job.assignee });
      } catch (e) {
        logger.info("reassign not taken", { jobId: job.jobId, reason: await reasonOf(e) });
      }
    }
  }

  async function tick(): Promise<void> {
    await discover();
    const t = await now();
    const account = await market.account(wallet.address);
    let freeStake = account.staked - account.locked;
    metrics.stakeFree.set(Number(freeStake));
    metrics.stakeLocked.set(Number(account.locked));
    metrics.queueDepth.set(pool.queueDepth());
    if (claiming) {
      const open = book.open().sort((a, b) => Number(a.terms.expiresAt - b.terms.expiresAt));
      // A job that left Open is no longer retried.
      retries.prune((jobId) => book.jobs.get(jobId)?.status === "Open");
      for (const job of open) {
        if (inFlight.has(job.jobId) || store.skipped(job.jobId) !== null) continue;
        if (!retries.ready(job.jobId)) continue;
        const held = store.claim(job.jobId);
        if (held !== null && held.status !== "lost" && held.view.attempt === job.attempt) continue;
        // A circuit whose backend was taken out of service is not claimed (but not written off: a restart with
        // a working backend serves it again).
        const served = circuitOf(job.terms.circuitId);
        if (served !== undefined && outOfService.has(served.backend)) continue;
        if (served !== undefined && !circuitInService(served, job.jobId)) continue;
        const verdict = evaluate(job, {
          config,
          circuits,
          now: t,
          freeStake,
          freeSlots: config.slots - inFlight.size,
          provingSeconds: estimate,
        });
        if (!verdict.claim) {
          if (verdict.final) store.recordSkip(job.jobId, verdict.reason);
          continue;
        }
        freeStake -= job.terms.bond;
        track(job.jobId, take(job, verdict.circuit));
      }
    }
    if (config.keeper.enabled) await keep(t);
    lastTick = Date.now();
  }

  async function loop(): Promise<void> {
    while (claiming || inFlight.size > 0) {
      try {
        await tick();
      } catch (e) {
        logger.warn("tick failed; retrying", { error: (e as Error).message });
      }
      if (!woken)
        await new Promise<void>((r) => {
          const timer = setTimeout(r, config.pollIntervalMs);
          cutPause = () => {
            clearTimeout(timer);
            r();
          };
        });
      cutPause = null;
      woken = false;
    }
  }

  return {
    async start(): Promise<void> {
      for (const name of backends.keys()) metrics.backendUp.set({ backend: name }, 1);
      logger.info("worker starting", {
        prover: wallet.address,
        market: config.marketAddress,
        circuits: circuits.map((c) => c.circuitId),
        slots: config.slots,
      });
      // Before anything is claimed or resumed: which circuits' verifiers this worker trusts with its bond.
      let noneLeft: NoTrustedCircuitError | null = null;
      circuitTrust = await checkServedCircuits(circuits, {
        market,
        marketAddress: config.marketAddress,
        provider,
        checkBytecode: config.trust.checkVerifierBytecode,
        cacheDir: config.trust.verifierCacheDir ?? path.join(config.dataDir, "verifier-cache"),
        verdicts: store,
        logger,
      }).catch((e: unknown) => {
        if (!(e instanceof NoTrustedCircuitError)) throw e;
        noneLeft = e;
        return e.refused;
      });
      for (const checked of circuitTrust) {
        metrics.circuitUp.set({ circuit: String(checked.circuitId) }, checked.status === "refused" ? 0 : 1);
        if (checked.status === "refused") circuitsOutOfService.set(checked.circuitId, checked.reason);
      }
      await reconcile();
      if (noneLeft !== null) {
        // Nothing to serve, but the claims held on refused circuits are abandoned (reconcile) before the worker ends.
        await Promise.all(inFlight.values());
        throw noneLeft;
      }
      if (config.wsUrl !== undefined) subscription = subscribeToLogs(config.wsUrl, config.marketAddress, wake, logger);
      void loop().then(async () => {
        await subscription?.close();
        await pool.close();
        store.close();
        provider.destroy();
        stopped();
      });
    },
    /** Stops claiming; settles what it holds (prove and submit, or abandon), then ends. */
    stop(): Promise<void> {
      if (claiming) logger.info("stopping: no new claims; settling held claims", { held: inFlight.size });
      claiming = false;
      wake();
      return done;
    },
    health: () => ({
      ok: Date.now() - lastTick < Math.max(30_000, config.pollIntervalMs * 10),
      lastTick,
      inFlight: inFlight.size,
      queueDepth: pool.queueDepth(),
      backendsOutOfService: Object.fromEntries(outOfService),
      circuits: circuitTrust.map((c) => ({
        ...c,
        inService: !circuitsOutOfService.has(c.circuitId),
        outOfServiceReason: circuitsOutOfService.get(c.circuitId) ?? null,
      })),
    }),
    done,
  };
}
