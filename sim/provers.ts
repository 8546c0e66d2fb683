/**
 * The simulated provers. Each decides, block by block, what to send, from the job book as the worker keeps it
 * (common/market/jobBook.ts, folded from the chain's events). Whether to claim a job is the worker's own decision
 * (prover-worker/src/pipeline/decision.ts) with the worker's own reservation price (prover-worker/src/pricing.ts):
 * the strategies differ in what they do with a claim, and in which jobs they let the decision look at.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { JobView } from "../common/market/jobBook.ts";
import { reopenedRamp } from "../common/market/price.ts";
import { configDefault, type ServedCircuit, type WorkerConfig } from "../prover-worker/src/config.ts";
import { decide, type DecisionContext } from "../prover-worker/src/pipeline/decision.ts";
import { attemptKey, jobsToReassign } from "../prover-worker/src/pipeline/keeper.ts";
import { reactToRefusedSubmission } from "../prover-worker/src/pipeline/refusal.ts";
import { MEASURED_GAS, reservationPrice } from "../prover-worker/src/pricing.ts";
import type { ClaimRecord } from "../prover-worker/src/store.ts";
import { quiet } from "./circuitTrust.ts";
import { servedCircuit } from "./preflight.ts";
import type { ProverSpec, Scenario } from "./scenario.ts";

/** A claim an agent holds, as its `JobClaimed` event told it. */
export interface HeldClaim {
  attempt: bigint;
  claimedAt: number;
  deadline: number;
  /** When its proof is ready (claim + proving time); never for a staller. */
  readyAt: number;
  /** The address that holds it. */
  by: string;
  /** Its submission was refused and the worker's reaction is to abandon it (pipeline/refusal.ts). */
  abandoning?: boolean;
}

/** A market call an agent wants in the next block. */
export interface Action {
  agent: ProverAgent | null;
  from: HardhatEthersSigner;
  /** `pull`: a rug-pull griefer's switch (a call to its verifier, not the market; `jobId` is unused). */
  method: "claim" | "submitProof" | "abandon" | "reassign" | "expire" | "pull";
  jobId: bigint;
  /** Sent right after this one, from the same address (so mined after it, in nonce order), whatever this one does. */
  then?: Action;
  /** The job's terms as they will be when this call runs, if not as the book has them (a claim behind a reassign). */
  terms?: JobView["terms"];
}

/** What an agent sees when it plans: the book after the last block, that block's second and the next one's. */
export interface World {
  book: readonly JobView[];
  now: number;
  next: number;
  /** Free stake (staked − locked) of an address, as the market says after the last block. */
  freeStake(address: string): bigint;
  /** Why the worker's preflight refuses the job's inputs (sim/preflight.ts), or null. */
  unprovable(jobId: bigint): string | null;
}

/** The worker's default safety margin: seconds kept between the expected end of proving and the deadline. */
const SAFETY_MARGIN_SECONDS = (configDefault("policy") as WorkerConfig["policy"]).safetyMarginSeconds;

export class ProverAgent {
  readonly claims = new Map<bigint, HeldClaim>();
  readonly reservation: bigint;
  /** What one proof costs it to compute (the proving part of its reservation). */
  readonly provingCost: bigint;
  readonly spec: ProverSpec;
  readonly signer: HardhatEthersSigner;
  /** The self-reassigner's second address, which reassigns its first's lapsed claims and proves them. */
  readonly second: HardhatEthersSigner | null;
  /** The circuits it serves: those the worker's start-up check let through (sim/circuitTrust.ts). */
  private readonly circuits: ServedCircuit[];
  /** Circuits taken out of service after their verifier refused a valid proof, with the reason. */
  readonly outOfService = new Map<number, string>();
  /** The claims (`jobId/attempt`) it computed a proof for: a refused or late proof cost as much as an accepted one. */
  readonly computed = new Set<string>();
  private readonly rewardShareBps: bigint;

  constructor(
    spec: ProverSpec,
    signer: HardhatEthersSigner,
    second: HardhatEthersSigner | null,
    scenario: Scenario,
    served: bigint[],
  ) {
    this.spec = spec;
    this.signer = signer;
    this.second = second;
    const price = { floor: spec.floor, perProvingSecond: spec.perProvingSecond };
    const reservation = reservationPrice(
      price,
      { tokensPerEth: scenario.tokensPerEth, claimGas: MEASURED_GAS.claim, submitGas: MEASURED_GAS.submit },
      { seconds: spec.provingSeconds, source: "bench" },
      scenario.gasPrice,
    );
    this.reservation = reservation.price;
    this.provingCost = reservation.proving;
    this.circuits = served.map((id) => servedCircuit(id, price));
    this.rewardShareBps = scenario.market.rewardShareBps;
  }

  /** Whether the job is on a circuit it serves and has not taken out of service. */
  private serves(job: JobView): boolean {
    const id = Number(job.terms.circuitId);
    return this.circuits.some((c) => c.circuitId === id) && !this.outOfService.has(id);
  }

  /**
   * The market refused its submission of `job`'s proof (a valid one: the pooled proofs verify against the key). The
   * worker's own reaction (prover-worker/src/pipeline/refusal.ts): for a verifier's refusal, take the circuit out of
   * service and abandon the claim at once, for the smaller slash.
   */
  async submissionRefused(
    job: JobView,
    refusal: string,
    txHash: string,
    chain: { market: any; now: number },
  ): Promise<void> {
    const claim = this.claims.get(job.jobId);
    if (claim === undefined) return;
    const circuit = this.circuits.find((c) => BigInt(c.circuitId) === job.terms.circuitId)!;
    const record = { jobId: job.jobId, status: "submitting", view: job, inputs: "", txHash, error: null };
    await reactToRefusedSubmission(
      { record: record as ClaimRecord, circuit, refusal, txHash },
      {
        prover: claim.by,
        market: chain.market,
        now: async () => chain.now,
        abandon: async () => {
          claim.abandoning = true;
        },
        markFailed: () => this.claims.delete(job.jobId),
        takeOutOfService: (c, reason) => {
          this.outOfService.set(c.circuitId, reason);
        },
        verifiersOf: () => ({ verifier: null, batchVerifier: null }),
        logger: quiet,
      },
    );
  }

  get addresses(): string[] {
    return [this.signer.address, ...(this.second ? [this.second.address] : [])].map((a) => a.toLowerCase());
  }

  owns(address: string | null): boolean {
    return address !== null && this.addresses.includes(address.toLowerCase());
  }

  /** Claims held by one of its addresses. */
  private heldBy(address: string): HeldClaim[] {
    return [...this.claims.values()].filter((c) => c.by === address.toLowerCase());
  }

  /** The worker's decision for `job`, for this agent's address `from`, given what it already sends this block. */
  private decision(job: JobView, world: World, from: HardhatEthersSigner, claimingNow: JobView[]) {
    const bonds = claimingNow.reduce((sum, j) => sum + j.terms.bond, 0n);
    const ctx: DecisionContext = {
      config: {
        policy: { safetyMarginSeconds: SAFETY_MARGIN_SECONDS, provingSecondsEstimate: this.spec.provingSeconds },
        slots: this.spec.slots,
      } as Pick<WorkerConfig, "policy" | "slots">,
      circuits: this.circuits,
      now: world.now,
      claimAt: world.next,
      reservation: () => this.reservation,
      claiming: true,
      freeStake: world.freeStake(from.address) - bonds,
      freeSlots: this.spec.slots - this.heldBy(from.address).length - claimingNow.length,
      provingSeconds: () => this.spec.provingSeconds,
      inFlight: (jobId) => this.claims.has(jobId) || claimingNow.some((j) => j.jobId === jobId),
      held: (j) => this.claims.get(j.jobId)?.attempt === j.attempt,
      skipped: (jobId) => world.unprovable(jobId),
      claimSeen: () => false,
      retryInMs: () => 0,
      backendOutOfService: () => undefined,
      circuitOutOfService: (circuitId) => this.outOfService.get(circuitId),
    };
    return decide(job, ctx);
  }

  /** Whether the worker's decision would let this agent claim now (a free slot and stake at its reservation). */
  capable(job: JobView, world: World): boolean {
    return this.decision(job, world, this.signer, []).claim;
  }

  /** What the agent sends in the next block. */
  plan(world: World): Action[] {
    const actions: Action[] = [];
    const act = (from: HardhatEthersSigner, method: Action["method"], jobId: bigint) =>
      actions.push({ agent: this, from, method, jobId });
    const jobs = world.book;
    const byId = new Map(jobs.map((j) => [j.jobId, j]));
    const { strategy } = this.spec;
    // The self-reassigner's second address: the jobs it claims back this block, within its stake and slots.
    const reclaiming: JobView[] = [];
    const secondCanClaim = (job: JobView) =>
      world.freeStake(this.second!.address) - reclaiming.reduce((s, j) => s + j.terms.bond, 0n) >= job.terms.bond &&
      this.heldBy(this.second!.address).length + reclaiming.length < this.spec.slots;

    for (const [jobId, claim] of this.claims) {
      const job = byId.get(jobId);
      if (job === undefined || job.status !== "Claimed" || job.attempt !== claim.attempt) continue;
      const prover = this.signer.address.toLowerCase() === claim.by ? this.signer : this.second!;
      if (strategy === "staller") continue;
      if (claim.abandoning) {
        claim.abandoning = false;
        act(prover, "abandon", jobId);
        continue;
      }
      if (strategy === "abandoner") {
        // It never proves: halfway through the window it gives the job back, for the smaller slash.
        if (world.next >= claim.claimedAt + (claim.deadline - claim.claimedAt) / 2) act(prover, "abandon", jobId);
        continue;
      }
      if (strategy === "self-reassigner" && prover === this.signer) {
        // The first address lets its claim lapse. The second reassigns it (for the keeper's share, if its reassign
        // lands before a keeper's) and claims the re-opened job right behind it, in the same block, at the price its
        // first claim locked plus the slash's reward share (the ramp paused while it held the job): no prover planning
        // from the last block can claim it first, since for them it is still claimed.
        if (world.next > claim.deadline && world.next <= Number(job.terms.expiresAt)) {
          const reassign: Action = { agent: this, from: this.second!, method: "reassign", jobId };
          // (A claim needs the job unexpired; a reassignment takes it up to its expiry's second.)
          if (secondCanClaim(job) && world.next < Number(job.terms.expiresAt)) {
            reclaiming.push(job);
            // Re-opened, the job's ramp is raised by the reward share of the slashed bond and paused for the time the
            // claim held it (ProofMarket `_reopen`).
            const reward = (job.terms.bond * this.rewardShareBps) / 10_000n;
            const terms = reopenedRamp(job.terms, BigInt(claim.claimedAt), BigInt(world.next), reward);
            reassign.then = { agent: this, from: this.second!, method: "claim", jobId, terms };
          }
          actions.push(reassign);
        }
        continue;
      }
      if (claim.readyAt <= world.next && world.next <= claim.deadline) {
        this.computed.add(`${jobId}/${claim.attempt}`);
        act(prover, "submitProof", jobId);
      }
    }

    const claimant = this.signer;
    const claimingNow: JobView[] = [];
    for (const job of jobs) {
      if (job.status !== "Open") continue;
      if (strategy === "staller") {
        // As soon as it can afford the bond and has room: it means to hold jobs, not to be paid. It blocks the jobs
        // honest provers would prove (those the preflight refuses, or on circuits the check refuses, no one wants).
        if (world.unprovable(job.jobId) !== null || !this.serves(job)) continue;
        const free = world.freeStake(this.signer.address) - claimingNow.reduce((s, j) => s + j.terms.bond, 0n);
        if (this.claims.has(job.jobId) || free < job.terms.bond) continue;
        if (this.claims.size + claimingNow.length >= this.spec.slots) continue;
        claimingNow.push(job);
        act(this.signer, "claim", job.jobId);
        continue;
      }
      if (strategy === "sniper" && job.attempt === 0n) continue;
      // Its first address takes only first claims, the ones it will let lapse.
      if (strategy === "self-reassigner" && job.attempt > 0n) continue;
      if (this.decision(job, world, claimant, claimingNow).claim) {
        claimingNow.push(job);
        act(claimant, "claim", job.jobId);
      }
    }
    return actions;
  }
}

/**
 * A keeper: the worker's own keeping decision (prover-worker/src/pipeline/keeper.ts `jobsToReassign`), for the block
 * the reassignments land in. Like the worker, it expires nothing: an expiry pays a keeper only when it slashes a
 * stalled claim, and the job's requester, who gets its escrow back, expires it.
 */
export function keeperPlan(world: World, keeper: HardhatEthersSigner, reassigned: Set<string>): Action[] {
  return jobsToReassign(world.book, { now: world.next, me: keeper.address, reassigned }).map((job) => {
    reassigned.add(attemptKey(job));
    return { agent: null, from: keeper, method: "reassign", jobId: job.jobId };
  });
}
