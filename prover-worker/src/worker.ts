/**
 * The worker: the wiring of its pipeline, and the supervisor that keeps its stages running.
 *
 *   discovery ──▶ job book ──▶ scheduling (decision) ──▶ per job: preflight ─▶ claim ─▶ prove ─▶ submit
 *       │                                                                    ▲
 *       └── reorg notices, own claims ──▶ reconciliation ── adopts, resumes or drops ─┘   keeping (reassign stalls)
 *
 * Each stage is its own module under pipeline/, with its role at its top: discovery.ts (the chain reader into the
 * job book, reorgs undone), decision.ts (whether to claim a job, and why not), crossing.ts (when a job's rising
 * price reaches the reservation price: the scheduler wakes for that block, not the next poll), preflight.ts,
 * claim.ts, prove.ts,
 * submission.ts (and refusal.ts), keeper.ts, reconciliation.ts (the worker's claims against the chain, at start,
 * after a reorg, when its own claim is read and periodically). Here: the per-job task that strings preflight to
 * submission together, and the services the stages share (the transaction queue, abandoning, taking a circuit out
 * of service). Calls flow one way, from discovery to submission; the long-lived stages (discovery, scheduling,
 * keeping, reconciliation) run under supervisor.ts, which restarts a failed one with backoff.
 * Claims are recorded before they are sent, so a restart resumes them; on SIGTERM the worker stops claiming and
 * settles what it holds. Reservation prices (pricing.ts) are computed here, at each scheduling pass, from the
 * expected proving time and the chain's gas price (refreshed every GAS_PRICE_REFRESH_MS, not per job). A job whose
 * price will cross the reservation soon is preflighted ahead (inputs fetched and checked, witness computed), so
 * that the claim goes out the moment the crossing comes.
 */
import path from "node:path";
import { solidityPackedKeccak256, type Wallet } from "ethers";
import { type LogSubscription, type SubscribedLog, subscribeToLogs } from "../../common/chain/logSubscription.ts";
import { createProvider } from "../../common/chain/provider.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import { explainRevert, refusalName } from "../../common/contracts/revert.ts";
import { errorCode, messageOf } from "../../common/errors.ts";
import { JobBook, type JobView } from "../../common/market/jobBook.ts";
import { createMarketReader } from "../../common/market/marketReader.ts";
import type { ServedCircuit, WorkerConfig } from "./config.ts";
import type { Logger } from "../../common/log.ts";
import type { Metrics } from "./metrics.ts";
import { createBackends } from "./backends/index.ts";
import { createBackoff } from "./pipeline/backoff.ts";
import { createTxQueue } from "./pipeline/chainTx.ts";
import { type CircuitTrust, checkServedCircuits, NoTrustedCircuitError } from "./pipeline/circuitCheck.ts";
import { ClaimUnconfirmedError, claimJob, heldBy } from "./pipeline/claim.ts";
import { decide, type DecisionContext } from "./pipeline/decision.ts";
import { createDiscovery } from "./pipeline/discovery.ts";
import { createKeeper } from "./pipeline/keeper.ts";
import { preflight } from "./pipeline/preflight.ts";
import { createReconciliation } from "./pipeline/reconciliation.ts";
import { InvalidProofError, proveJob } from "./pipeline/prove.ts";
import { isVerifierRefusal, reactToRefusedSubmission, type RefusalContext } from "./pipeline/refusal.ts";
import { MIN_ABANDON_SECONDS, submitUntilSettled } from "./pipeline/submission.ts";
import { createSupervisor } from "./pipeline/supervisor.ts";
import { createProverPool } from "./prover/pool.ts";
import { expectedProvingTime, gasPriceOf, type Reservation, reservationPrice } from "./pricing.ts";
import {
  type ChainTime,
  chainTime,
  createChainClock,
  createStampWatch,
  DEV_CHAIN_IDS,
  type StampOrder,
  wakeDelayMs,
} from "./pipeline/crossing.ts";
import { type ClaimRecord, openStore } from "./store.ts";
import { clearCommand, readVerifierCode } from "./trust/verdicts.ts";

/** How often held claims with no task working on them are checked against the chain. */
const RECONCILE_INTERVAL_MS = 10_000;
/** How long another prover's claim seen on the subscription keeps a job from the candidates, at most. */
const CLAIM_SEEN_MS = 60_000;
/** How long a gas price quote is used for reservation prices before the chain is asked again. */
const GAS_PRICE_REFRESH_MS = 60_000;
/** A job whose price reaches the reservation within this many seconds is preflighted ahead of its crossing. */
const PREPARE_AHEAD_SECONDS = 30;

export interface WorkerCommon {
  config: WorkerConfig;
  circuits: ServedCircuit[];
  wallet: Wallet;
  logger: Logger;
  metrics: Metrics;
}

export function createWorker({ config, circuits, wallet, logger, metrics }: WorkerCommon) {
  const provider = createProvider(config.rpcUrl, config.pollIntervalMs, {
    onRetry: ({ kind }) => metrics.rpcRetries.inc({ stage: "rpc", kind }),
  });
  const signer = wallet.connect(provider);
  const market = connectMarket(config.marketAddress, signer);
  const me = wallet.address.toLowerCase();
  const store = openStore(config.dataDir, logger);
  const pool = createProverPool(config.slots);
  const send = createTxQueue();
  const book = new JobBook();
  // A store written before the job events and block hashes were kept (a checkpoint without a hash) cannot undo a
  // reorg: its book is read again from the start block, with them.
  if (store.cursor()?.hash === null) {
    logger.warn(
      "the data folder's job book predates block hashes: reading the market's events again from the start block",
    );
    store.resetChainState();
  }
  for (const view of store.loadBook()) book.jobs.set(view.jobId, view);
  const backends = createBackends(config, pool);
  const reader = createMarketReader({
    provider,
    address: config.marketAddress,
    onRetry: ({ kind }) => metrics.rpcRetries.inc({ stage: "discovery", kind }),
  });

  /** Backends that produced a proof failing verification: no more claims for their circuits. */
  const outOfService = new Map<string, string>();
  /** Circuits whose verifiers this worker does not trust (start-up check, or a refused valid proof), with the reason:
   *  no more claims of their jobs (a refusal's verdict is also stored: later starts refuse the circuit too). */
  const circuitsOutOfService = new Map<number, string>();
  let circuitTrust: CircuitTrust[] = [];
  const inFlight = new Map<bigint, Promise<void>>();
  /** Jobs whose claim a reorg removed while a task worked on them: the task stops before it sends anything more. */
  const revoked = new Map<bigint, string>();
  /** Claims of other provers seen on the log subscription (or a claim refused as WrongStatus), by job: the attempt
   *  claimed and when it was seen. Forgotten once the book shows the job moved on, or after CLAIM_SEEN_MS (a claim a
   *  reorg removed must not keep the job from the worker for ever). */
  const claimSeen = new Map<bigint, { attempt: bigint; at: number }>();
  const seeClaim = (jobId: bigint, attempt: bigint) => claimSeen.set(jobId, { attempt, at: Date.now() });
  const sawClaim = (jobId: bigint, attempt: bigint) => claimSeen.get(jobId)?.attempt === attempt;
  /** Jobs whose preflight could not run: not taken again before their next-attempt time. */
  const retries = createBackoff<bigint>();
  const provingSeconds = new Map<number, number>();
  /** Jobs preflighted ahead of their crossing (at most `slots` at once: a witness each), by job; and being so. */
  const prepared = new Map<bigint, { attempt: bigint; inputs: string; witness: Uint8Array }>();
  const preparing = new Map<bigint, Promise<void>>();
  /** The reservation price of each served circuit as the last scheduling pass computed it. */
  const reservations = new Map<number, Reservation>();
  let gasQuote: { price: bigint; at: number } | null = null;
  const chainClock = createChainClock();
  /** Whether the chain's block timestamps strictly increase: a claim then goes out a block earlier (crossing.ts). */
  const stamps = createStampWatch();
  let stampOrder: StampOrder | null = null;
  /** Whether the chain is a development chain, whose pending block's timestamp can be trusted (crossing.ts). */
  let devChain: boolean | null = null;
  let crossingTimer: NodeJS.Timeout | null = null;
  let claiming = true;
  /** Whether discovery has caught up with the chain once since the start. */
  let synced = false;
  let subscription: LogSubscription | null = null;
  let stopped: () => void;
  const done = new Promise<void>((r) => (stopped = r));

  const now = async () => (await provider.getBlock("latest"))!.timestamp;
  /** A contract's refusal with its arguments, wherever ethers put it (a mined revert is replayed); null otherwise. */
  const refusalOf = (e: unknown) => explainRevert(e, provider).catch(() => null);
  const reasonOf = async (e: unknown) => (await refusalOf(e)) ?? messageOf(e);
  // Expected seconds per proof: what this process has seen, else what `bench` measured, else the configured guess.
  const expectedProving = (c: ServedCircuit) =>
    expectedProvingTime(
      provingSeconds.get(c.circuitId),
      store.bench(c.circuitId, c.backend),
      config.policy.provingSecondsEstimate,
    );
  const estimate = (c: ServedCircuit) => expectedProving(c).seconds;
  const circuitOf = (id: bigint) => circuits.find((c) => BigInt(c.circuitId) === id);

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

  async function abandon(record: ClaimRecord, reason: string): Promise<void> {
    const log = logger.child({ jobId: record.jobId });
    // A reorg said the claim is gone: the chain confirms it before the abandon is skipped.
    if (revoked.has(record.jobId) && (await claimGone(record)) !== null)
      return log.info("not abandoning: the claim is no longer ours", { reason });
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

  // ---- The per-job pipeline: preflight → claim → prove → submit ----

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
    const backend = backends.get(circuit.backend)!;
    const started = Date.now();
    let proved;
    try {
      proved = await proveJob({
        jobId: record.jobId,
        circuit,
        inputs: record.inputs,
        witness,
        backend,
        pool,
        deadline,
        timeoutMs: (deadline - (await now())) * 1000,
      });
    } catch (e) {
      if (e instanceof InvalidProofError) {
        outOfService.set(backend.name, `produced an invalid proof for job ${record.jobId}`);
        metrics.backendUp.set({ backend: backend.name }, 0);
        log.error("backend produced a proof that does not verify: taken out of service, proof not submitted", {
          backend: backend.name,
        });
      } else log.error("backend failed to prove", { backend: backend.name, error: messageOf(e) });
      return abandon(record, messageOf(e));
    }
    metrics.provingSeconds.observe({ circuit: circuit.manifestData.name, backend: backend.name }, proved.seconds);
    const elapsed = (Date.now() - started) / 1000;
    provingSeconds.set(
      circuit.circuitId,
      Math.max(elapsed * 1.5, (provingSeconds.get(circuit.circuitId) ?? elapsed) * 0.8),
    );
    // A reorg may have removed the claim while the proof was made (discovery may not have read it yet): the chain
    // says whether it is still the worker's.
    const lostTo = await claimGone(record);
    if (lostTo !== null) return log.warn("proof not submitted: the claim is no longer ours", { reason: lostTo });
    store.setClaimStatus(record.jobId, "submitting");
    return submitUntilSettled({
      deadline,
      marginSeconds: Math.max(MIN_ABANDON_SECONDS, config.policy.safetyMarginSeconds),
      send: () => send(() => market.submitProof(record.jobId, record.view.terms, proved.proof, proved.publicSignals)),
      sent: (txHash) => store.setClaimStatus(record.jobId, "submitting", { txHash }),
      accepted: (tx) => {
        store.setClaimStatus(record.jobId, "proved", { provingSeconds: proved.seconds });
        metrics.jobsProved.inc();
        const price = store.claim(record.jobId)?.price ?? null;
        if (price !== null) metrics.earned.inc({ circuit: String(circuit.circuitId) }, Number(price));
        updateEarnings(circuit.circuitId);
        log.info("proof accepted", { price, provingSeconds: proved.seconds, tx });
      },
      refusalOf,
      refused: async (refusal, txHash) => {
        // A reorg that removed the claim makes the market refuse the proof: that says nothing about the circuit.
        if (revoked.has(record.jobId)) return log.warn("proof refused after a reorg removed the claim", { refusal });
        return reactToRefusedSubmission({ record, circuit, refusal, txHash }, refusals);
      },
      abandon: (reason) => abandon(record, reason),
      now,
      logger: log,
    });
  }

  /** Why the chain no longer shows the record's claim as the worker's; null while it does. */
  async function claimGone(record: ClaimRecord): Promise<string | null> {
    const state = await market.jobState(record.jobId);
    if (heldBy(state, me, record.view.attempt)) {
      revoked.delete(record.jobId);
      return null;
    }
    const reason = "the claim is not on the chain any more (a reorg?)";
    store.setClaimStatus(record.jobId, "lost", { error: reason });
    metrics.claimsDropped.inc({ why: "reorg" });
    return reason;
  }

  /** The job's preflight; a failure is recorded (written off, or retried after a backoff) and gives null. */
  async function checkJob(job: JobView, circuit: ServedCircuit) {
    const log = logger.child({ jobId: job.jobId, circuit: circuit.manifestData.name });
    const checked = await preflight(job, circuit, pool, config);
    if (!checked.ok) {
      const { error } = checked;
      if (!error.retryable) {
        store.recordSkip(job.jobId, error.message);
        metrics.jobsSkipped.inc({ reason: "preflight" });
        log.warn("job skipped without a claim", { reason: error.message, code: error.code });
      } else {
        const retryInMs = retries.failed(job.jobId);
        metrics.preflightRetries.inc();
        log.error("preflight could not run; will retry", { reason: error.message, code: error.code, retryInMs });
      }
      return null;
    }
    retries.clear(job.jobId);
    return checked;
  }

  /** Preflights a job ahead of its crossing, so that its claim goes out at once when the price gets there. */
  function prepare(job: JobView, circuit: ServedCircuit): void {
    const work = checkJob(job, circuit)
      .then((checked) => {
        if (checked !== null) prepared.set(job.jobId, { attempt: job.attempt, ...checked });
      })
      .catch((e) => logger.error("preflight ahead of a crossing failed", { jobId: job.jobId, error: messageOf(e) }))
      .finally(() => preparing.delete(job.jobId));
    preparing.set(job.jobId, work);
  }

  /** Preflight (unless done ahead of the crossing), claim, prove, submit one job. */
  async function take(job: JobView, circuit: ServedCircuit): Promise<void> {
    const log = logger.child({ jobId: job.jobId, circuit: circuit.manifestData.name });
    revoked.delete(job.jobId);
    // The crossing came while its preflight ran ahead: that one finishes rather than a second starting.
    await preparing.get(job.jobId);
    const ready = prepared.get(job.jobId);
    prepared.delete(job.jobId);
    const checked = ready?.attempt === job.attempt ? ready : await checkJob(job, circuit);
    if (checked === null) return;
    if (!claiming) return;
    // Another prover's claim seen while the preflight ran: sending ours would only revert.
    if (sawClaim(job.jobId, job.attempt)) return log.info("claim not sent: another prover's claim of the job was seen");
    let claimed;
    try {
      claimed = await claimJob(job, checked.inputs, { me, market, send, store, metrics, refusalOf, logger: log });
    } catch (e) {
      // Sent but not confirmed: the record stays "claiming" and reconciliation adopts the claim if it lands.
      if (e instanceof ClaimUnconfirmedError) return;
      throw e;
    }
    if (!claimed.held) {
      // Refused because the job is no longer Open (another prover's claim came first, maybe in the same block):
      // not taken again before discovery has read that claim.
      if (claimed.refusal !== null && refusalName(claimed.refusal) === "WrongStatus") seeClaim(job.jobId, job.attempt);
      // The market refuses claims once a verifier's code has changed since registration: stop asking.
      if (claimed.refusal !== null && isVerifierRefusal(claimed.refusal))
        await takeCircuitOutOfService(circuit, `claim refused: ${claimed.refusal}`, { jobId: job.jobId, txHash: null });
      return;
    }
    const record = store.claim(job.jobId)!;
    await proveAndSubmit(record, circuit, claimed.deadline, checked.witness);
  }

  function track(jobId: bigint, work: Promise<void>): void {
    const p = work
      .catch((e) => logger.error("job pipeline failed", { jobId, error: messageOf(e), code: errorCode(e) }))
      .finally(() => {
        inFlight.delete(jobId);
        metrics.inFlight.set(inFlight.size);
        // A slot is free: look for the next job now rather than after the poll interval.
        supervisor.wake("scheduling");
      });
    inFlight.set(jobId, p);
    metrics.inFlight.set(inFlight.size);
  }

  // ---- Reconciliation: the worker's claims against the chain ----

  const reconciliation = createReconciliation({
    me,
    market,
    provedBy: (jobId) => {
      const job = book.jobs.get(jobId);
      return job?.status === "Proved" ? job.assignee : null;
    },
    pending: async (txHash) =>
      (await provider.getTransaction(txHash)) !== null && (await provider.getTransactionReceipt(txHash)) === null,
    store,
    metrics,
    logger,
    working: (jobId) => inFlight.has(jobId),
    revoke: (jobId, reason) => revoked.set(jobId, reason),
    unrevoke: (jobId) => revoked.delete(jobId),
    resume: (record, circuit, deadline) => track(record.jobId, proveAndSubmit(record, circuit, deadline)),
    abandon: (record, reason) => track(record.jobId, abandon(record, reason)),
    circuitOf,
    distrusted: (circuitId) => circuitsOutOfService.get(circuitId),
  });

  // ---- Long-lived stages ----

  const discovery = createDiscovery({
    reader,
    store,
    book,
    startBlock: config.startBlock,
    metrics,
    logger,
    onReorg: async (notice) => {
      await reconciliation.afterReorg(notice);
      supervisor.wake("scheduling");
    },
    onEvents: async (events) => {
      for (const e of events)
        if (e.name === "JobClaimed" && String(e.args.prover).toLowerCase() === me)
          await reconciliation.ownClaimSeen(e.args.jobId as bigint, BigInt(e.args.attempt as bigint));
    },
  });

  /** Another prover's claim on the log subscription: the job leaves the candidates before discovery reads it. */
  function onSubscribedLog(log: SubscribedLog | null): void {
    if (log !== null) {
      try {
        const parsed = market.interface.parseLog(log);
        if (parsed?.name === "JobClaimed" && String(parsed.args.prover).toLowerCase() !== me) {
          // A claim a reorg removed (`removed`) no longer keeps the job from the worker.
          if (log.removed === true) claimSeen.delete(parsed.args.jobId as bigint);
          else seeClaim(parsed.args.jobId as bigint, BigInt(parsed.args.attempt));
        }
      } catch {
        // Not the market's event: the subscription is only a hint.
      }
    }
    supervisor.wake("discovery");
  }

  /**
   * Earliest expiry first, by the minute; within a minute, in an order of this worker's own (a hash of its address
   * and the job), so that workers looking at the same jobs do not all go for the same one first.
   */
  const spread = (jobId: bigint) => solidityPackedKeccak256(["address", "uint256"], [wallet.address, jobId]);
  const byUrgency = (a: JobView, b: JobView) => {
    const minute = (j: JobView) => j.terms.expiresAt / 60n;
    const m = minute(a) - minute(b);
    return m !== 0n ? (m < 0n ? -1 : 1) : spread(a.jobId) < spread(b.jobId) ? -1 : 1;
  };

  /** The chain's time for a scheduling pass; each reading also sets the chain clock's offset (crossing.ts). */
  async function readChainTime(): Promise<ChainTime> {
    devChain ??= DEV_CHAIN_IDS.has((await provider.getNetwork()).chainId);
    const block = (await provider.getBlock("latest"))!;
    const latest = block.timestamp;
    stamps.observe(block);
    // Its parent, unless already seen: each pair of consecutive blocks says whether this chain's seconds strictly
    // increase (once two blocks are seen sharing one, nothing more needs reading).
    if (stamps.order() !== "shared" && block.number > 0 && !stamps.knows(block.number - 1)) {
      const parent = await provider.getBlock(block.number - 1);
      if (parent !== null) stamps.observe(parent);
    }
    noteStampOrder(stamps.order());
    let pending: number | null = null;
    if (devChain) {
      const next = (await provider.send("eth_getBlockByNumber", ["pending", false]).catch(() => null)) as {
        timestamp?: string;
      } | null;
      if (typeof next?.timestamp === "string") pending = Number(next.timestamp);
    }
    const time = chainTime(latest, stamps.order() === "strict", pending);
    chainClock.observe(time.reading);
    // For `status --job N` (which reads no chain), when the estimate has moved by more than a second.
    const offset = chainClock.offsetMs()!;
    const stored = store.chainOffset();
    if (stored === null || Math.abs(stored - offset) > 1000) store.putChainOffset(offset);
    return time;
  }

  /** Logs and stores (for `status --job`) when a claim is sent relative to its crossing, when that changes. */
  function noteStampOrder(order: StampOrder): void {
    if (order === stampOrder) return;
    stampOrder = order;
    store.putStampOrder({ order, devChain: devChain === true });
    if (order === "strict")
      logger.info(
        "the chain's block timestamps strictly increase: a claim goes out once the block before its crossing is out",
      );
    else if (order === "shared")
      logger.info(
        "the chain stamps several blocks with the same second: a claim goes out once a block of its crossing is out",
        {
          blocks: stamps.sharedSeen(),
        },
      );
  }

  /** The chain's gas price, asked again every GAS_PRICE_REFRESH_MS; a failed refresh keeps the last quote. */
  async function gasPrice(): Promise<bigint> {
    if (gasQuote !== null && Date.now() - gasQuote.at < GAS_PRICE_REFRESH_MS) return gasQuote.price;
    try {
      gasQuote = { price: gasPriceOf(await provider.getFeeData()), at: Date.now() };
    } catch (e) {
      if (gasQuote === null) throw e;
      logger.warn("could not refresh the gas price: reservation prices keep the last quote", {
        gasPrice: gasQuote.price,
        error: messageOf(e),
      });
      gasQuote.at = Date.now();
    }
    return gasQuote.price;
  }

  /** Each served circuit's reservation price now; a change is logged, stored (for `status`) and exported. */
  function updateReservations(gas: bigint): void {
    for (const c of circuits) {
      const r = reservationPrice(c.price, config.pricing, expectedProving(c), gas);
      const last = reservations.get(c.circuitId);
      reservations.set(c.circuitId, r);
      if (last?.price === r.price && last.gasPrice === r.gasPrice && last.provingSeconds === r.provingSeconds) continue;
      store.putReservation({ ...r, circuitId: c.circuitId, at: Date.now() });
      metrics.reservationPrice.set({ circuit: String(c.circuitId) }, Number(r.price));
      // At info when it is first known and when the proving time moves it; a gas price's drift (every refresh on a
      // busy chain) at debug.
      const level = last === undefined || last.provingSeconds !== r.provingSeconds ? "info" : "debug";
      if (last?.price !== r.price)
        logger[level]("reservation price", {
          circuitId: c.circuitId,
          price: r.price,
          floor: r.floor,
          proving: r.proving,
          gas: r.gas,
          provingSeconds: r.provingSeconds,
          provingSource: r.provingSource,
          gasPrice: r.gasPrice,
        });
    }
  }

  /** The circuit's earnings per proving second, from the claim store (so they survive restarts). */
  function updateEarnings(circuitId: number): void {
    let earned = 0n;
    let seconds = 0;
    for (const c of store.claims(["proved"]))
      if (Number(c.view.terms.circuitId) === circuitId && c.price != null && c.provingSeconds != null) {
        earned += c.price;
        seconds += c.provingSeconds;
      }
    metrics.earnings(circuitId, earned, seconds);
  }

  /** Wakes the scheduler for the earliest crossing (crossing.ts), rather than at its next poll. */
  function armCrossing(time: ChainTime | null, crossesAt: number | null = null): void {
    if (crossingTimer !== null) clearTimeout(crossingTimer);
    crossingTimer = null;
    if (time === null || crossesAt === null || !claiming) return;
    crossingTimer = setTimeout(
      () => {
        crossingTimer = null;
        supervisor.wake("scheduling");
      },
      wakeDelayMs(chainClock, time, crossesAt),
    );
  }

  /** One scheduling pass: every Open job through the decision; the ones to take are started. */
  async function schedule(): Promise<void> {
    if (!synced) return;
    const account = await market.account(wallet.address);
    let freeStake = account.staked - account.locked;
    metrics.stakeFree.set(Number(freeStake));
    metrics.stakeLocked.set(Number(account.locked));
    metrics.queueDepth.set(pool.queueDepth());
    if (!claiming) return armCrossing(null);
    const time = await readChainTime();
    updateReservations(await gasPrice());
    const open = book.open().sort(byUrgency);
    // A job that left Open is no longer retried, nor remembered as claimed by someone else, nor kept preflighted.
    retries.prune((jobId) => book.jobs.get(jobId)?.status === "Open");
    for (const [jobId, ready] of prepared) {
      const job = book.jobs.get(jobId);
      if (job?.status !== "Open" || job.attempt !== ready.attempt) prepared.delete(jobId);
    }
    // Kept while a task works on the job: its preflight may still be running, and take() checks the mark before
    // it sends the claim (discovery reading the other claim, which makes the job leave Open, comes first).
    for (const [jobId, seen] of claimSeen) {
      const job = book.jobs.get(jobId);
      const movedOn = job?.status !== "Open" || job.attempt !== seen.attempt;
      if (!inFlight.has(jobId) && (movedOn || Date.now() - seen.at > CLAIM_SEEN_MS)) claimSeen.delete(jobId);
    }
    let started = 0;
    let crossing: number | null = null;
    for (const job of open) {
      const context: DecisionContext = {
        config,
        circuits,
        now: time.now,
        claimAt: time.claimAt,
        reservation: (c) => reservations.get(c.circuitId)!.price,
        claiming,
        freeStake,
        freeSlots: config.slots - inFlight.size - started,
        provingSeconds: estimate,
        inFlight: (id) => inFlight.has(id),
        held: (j) => {
          const held = store.claim(j.jobId);
          return held !== null && held.status !== "lost" && held.view.attempt === j.attempt;
        },
        skipped: (id) => store.skipped(id),
        claimSeen: (id) => sawClaim(id, job.attempt),
        retryInMs: (id) => retries.waitMs(id),
        backendOutOfService: (b) => outOfService.get(b),
        circuitOutOfService: (id) => circuitsOutOfService.get(id),
      };
      const decision = decide(job, context);
      // A stop decides nothing about the job: `status --job N` keeps showing why it was (not) claimed before.
      if (decision.code === "STOPPING") return armCrossing(null);
      const before = store.decision(job.jobId);
      store.putDecision(job.jobId, decision);
      if (before?.code !== decision.code) {
        logger.debug("claim decision", { jobId: job.jobId, code: decision.code, reason: decision.reason });
        if (decision.code === "CIRCUIT_OUT_OF_SERVICE")
          logger.info("job not claimed: its circuit is out of service", {
            jobId: job.jobId,
            circuitId: Number(job.terms.circuitId),
            reason: decision.reason,
          });
        if (decision.code === "PRICE_BELOW_RESERVATION" || decision.code === "PRICE_NEVER_REACHES_RESERVATION")
          logger.info("job not claimed yet: its price is below the reservation price", {
            jobId: job.jobId,
            code: decision.code,
            reason: decision.reason,
          });
      }
      if (!decision.claim) {
        if (decision.crossesAt !== undefined) {
          if (crossing === null || decision.crossesAt < crossing) crossing = decision.crossesAt;
          // Soon to cross: preflighted now, so that the claim is sent the moment the price gets there.
          const circuit = circuitOf(job.terms.circuitId)!;
          if (
            decision.crossesAt - time.claimAt <= PREPARE_AHEAD_SECONDS &&
            !prepared.has(job.jobId) &&
            !preparing.has(job.jobId) &&
            prepared.size + preparing.size < config.slots
          )
            prepare(job, circuit);
        }
        if (decision.final && store.skipped(job.jobId) === null) {
          store.recordSkip(job.jobId, decision.reason);
          logger.info("job not claimed", { jobId: job.jobId, code: decision.code, reason: decision.reason });
        }
        continue;
      }
      freeStake -= job.terms.bond;
      started++;
      track(job.jobId, take(job, decision.circuit));
    }
    armCrossing(time, crossing);
  }

  const keepPass = createKeeper({
    me: wallet.address,
    jobs: () => book.jobs.values(),
    now,
    reassign: async (job) => void (await (await send(() => market.reassign(job.jobId, job.terms))).wait()),
    reasonOf,
    logger,
  });
  // Keeping acts on the book: not before it has caught up with the chain.
  const keep = async () => (synced ? keepPass() : undefined);

  const running = () => claiming || inFlight.size > 0;
  const supervisor = createSupervisor(
    [
      {
        name: "discovery",
        intervalMs: config.pollIntervalMs,
        pass: async () => {
          const { ranges, reorgs, caughtUp } = await discovery.poll();
          // Scheduling and keeping act on the book: not before it has caught up with the chain once.
          if (caughtUp && !synced) {
            synced = true;
            logger.info("job book caught up with the chain", { cursor: store.cursor()?.number ?? null });
          }
          if (synced && ranges + reorgs > 0) supervisor.wake("scheduling");
          if (!caughtUp) supervisor.wake("discovery");
        },
      },
      { name: "scheduling", intervalMs: config.pollIntervalMs, pass: schedule },
      ...(config.keeper.enabled ? [{ name: "keeping", intervalMs: config.pollIntervalMs, pass: keep }] : []),
      { name: "reconciliation", intervalMs: RECONCILE_INTERVAL_MS, pass: reconciliation.periodically },
    ],
    {
      running,
      logger,
      onRestart: (stage) => metrics.stageRestarts.inc({ stage }),
    },
  );

  return {
    async start(): Promise<void> {
      for (const name of backends.keys()) metrics.backendUp.set({ backend: name }, 1);
      for (const c of circuits) updateEarnings(c.circuitId);
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
      await reconciliation.atStart();
      if (noneLeft !== null) {
        // Nothing to serve, but the claims held on refused circuits are abandoned (reconcile) before the worker ends.
        await Promise.all(inFlight.values());
        throw noneLeft;
      }
      if (config.wsUrl !== undefined)
        subscription = subscribeToLogs(config.wsUrl, config.marketAddress, onSubscribedLog, logger);
      void supervisor.run().then(async () => {
        await Promise.all([...inFlight.values(), ...preparing.values()]);
        subscription?.close();
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
      armCrossing(null);
      supervisor.wake();
      return done;
    },
    health: () => {
      const passes = supervisor.lastPass();
      const stale = Math.max(30_000, config.pollIntervalMs * 10);
      const stages = Object.fromEntries(
        Object.entries(passes).map(([name, at]) => [
          name,
          { lastPass: at, ok: Date.now() - at < (name === "reconciliation" ? stale + RECONCILE_INTERVAL_MS : stale) },
        ]),
      );
      return {
        ok: Object.values(stages).every((s) => s.ok),
        lastTick: passes.scheduling,
        stages,
        inFlight: inFlight.size,
        queueDepth: pool.queueDepth(),
        backendsOutOfService: Object.fromEntries(outOfService),
        circuits: circuitTrust.map((c) => ({
          ...c,
          inService: !circuitsOutOfService.has(c.circuitId),
          outOfServiceReason: circuitsOutOfService.get(c.circuitId) ?? null,
        })),
      };
    },
    done,
  };
}
