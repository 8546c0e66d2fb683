/**
 * The simulated provers. Each decides, block by block, what to send, from the job book as the worker keeps it
 * (common/market/jobBook.ts, folded from the chain's events). Whether to claim a job is the worker's own decision
 * (prover-worker/src/pipeline/decision.ts) with the worker's own reservation price (prover-worker/src/pricing.ts):
 * the strategies differ in what they do with a claim, and in which jobs they let the decision look at.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import type { JobView } from "../common/market/jobBook.ts";
import { configDefault, type ServedCircuit, type WorkerConfig } from "../prover-worker/src/config.ts";
import { decide, type DecisionContext } from "../prover-worker/src/pipeline/decision.ts";
import { attemptKey, jobsToReassign } from "../prover-worker/src/pipeline/keeper.ts";
import { MEASURED_GAS, reservationPrice } from "../prover-worker/src/pricing.ts";
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
}

/** A market call an agent wants in the next block. */
export interface Action {
  agent: ProverAgent | null;
  from: HardhatEthersSigner;
  method: "claim" | "submitProof" | "abandon" | "reassign" | "expire";
  jobId: bigint;
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
  /** Jobs whose claim by the first address the second address reassigned (the self-reassigner's). */
  readonly reassigned = new Set<bigint>();
  readonly reservation: bigint;
  readonly spec: ProverSpec;
  readonly signer: HardhatEthersSigner;
  /** The self-reassigner's second address, which reassigns its first's lapsed claims and proves them. */
  readonly second: HardhatEthersSigner | null;
  private readonly circuit: ServedCircuit;

  constructor(
    spec: ProverSpec,
    signer: HardhatEthersSigner,
    second: HardhatEthersSigner | null,
    scenario: Scenario,
    circuitId: bigint,
  ) {
    this.spec = spec;
    this.signer = signer;
    this.second = second;
    const price = { floor: spec.floor, perProvingSecond: spec.perProvingSecond };
    this.reservation = reservationPrice(
      price,
      { tokensPerEth: scenario.tokensPerEth, claimGas: MEASURED_GAS.claim, submitGas: MEASURED_GAS.submit },
      { seconds: spec.provingSeconds, source: "bench" },
      scenario.gasPrice,
    ).price;
    this.circuit = servedCircuit(circuitId, price);
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
      circuits: [this.circuit],
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
      circuitOutOfService: () => undefined,
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

    for (const [jobId, claim] of this.claims) {
      const job = byId.get(jobId);
      if (job === undefined || job.status !== "Claimed" || job.attempt !== claim.attempt) continue;
      const prover = this.signer.address.toLowerCase() === claim.by ? this.signer : this.second!;
      if (strategy === "staller") continue;
      if (strategy === "abandoner") {
        // It never proves: halfway through the window it gives the job back, for the smaller slash.
        if (world.next >= claim.claimedAt + (claim.deadline - claim.claimedAt) / 2) act(prover, "abandon", jobId);
        continue;
      }
      if (strategy === "self-reassigner" && prover === this.signer) {
        // The first address lets its claim lapse; the second slashes it for the keeper's share.
        if (world.next > claim.deadline && world.next <= Number(job.terms.expiresAt))
          act(this.second!, "reassign", jobId);
        continue;
      }
      if (claim.readyAt <= world.next && world.next <= claim.deadline) act(prover, "submitProof", jobId);
    }

    const claimant = this.signer;
    const claimingNow: JobView[] = [];
    const claimingSecond: JobView[] = [];
    for (const job of jobs) {
      if (job.status !== "Open") continue;
      if (strategy === "staller") {
        // As soon as it can afford the bond and has room: it means to hold jobs, not to be paid. It blocks the jobs
        // honest provers would prove (those the preflight refuses, no one wants).
        if (world.unprovable(job.jobId) !== null) continue;
        const free = world.freeStake(this.signer.address) - claimingNow.reduce((s, j) => s + j.terms.bond, 0n);
        if (this.claims.has(job.jobId) || free < job.terms.bond) continue;
        if (this.claims.size + claimingNow.length >= this.spec.slots) continue;
        claimingNow.push(job);
        act(this.signer, "claim", job.jobId);
        continue;
      }
      if (strategy === "sniper" && job.attempt === 0n) continue;
      if (strategy === "self-reassigner" && job.attempt > 0n) {
        // Its second address takes the jobs its first let lapse, at the raised price.
        const reassignedByUs = this.reassigned.has(job.jobId);
        if (reassignedByUs && this.decision(job, world, this.second!, claimingSecond).claim) {
          claimingSecond.push(job);
          act(this.second!, "claim", job.jobId);
        }
        continue;
      }
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
