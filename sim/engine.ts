/**
 * The simulation's loop. Block by block, on the real contracts: requesters post the jobs that arrive (a seeded
 * Poisson stream), every prover and keeper plans from the job book after the last block, their transactions are
 * sent in a seeded random order and mined together at the next block's second, and the block's events (read by the
 * chain reader) update the book and the agents. After the last job the market runs on until every job is final.
 * Money is counted from the chain: an agent's wealth is its tokens, its withdrawable balance and its stake, and its
 * profit the change of that wealth less its gas, priced as the worker's pricing prices it.
 */
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { explainRevert } from "../common/contracts/revert.ts";
import { JobBook } from "../common/market/jobBook.ts";
import { priceAt } from "../common/market/price.ts";
import { DEFAULT_MIN_DIVISOR, steepRise } from "../requester/pricing.ts";
import { seededRandom } from "../dev/random.ts";
import { UNKNOWN_REVERT } from "../prover-worker/src/pipeline/refusal.ts";
import { openSimChain, type SimChain } from "./chain.ts";
import { checkCircuits } from "./circuitTrust.ts";
import { createSharedPreflight } from "./preflight.ts";
import { type Action, keeperPlan, ProverAgent, type World } from "./provers.ts";
import type { ProverStrategy, RequesterSpec, Scenario } from "./scenario.ts";

const WEI_PER_ETH = 10n ** 18n;

export interface AgentResult {
  name: string;
  strategy: ProverStrategy | "keeper";
  reservation: bigint | null;
  claims: number;
  proofs: number;
  /** Prices of its accepted proofs. */
  fees: bigint;
  /** Its bonds taken by slashes (reassign, abandon, expiry). */
  slashed: bigint;
  gasTokens: bigint;
  /** What its proofs cost it to compute: proofs it submitted (accepted or not) × its proving seconds × its price per
   *  proving second. */
  provingCost: bigint;
  /** Change of wealth (tokens + withdrawable + stake) less gas and proving cost. */
  profit: bigint;
}

export interface JobResult {
  jobId: bigint;
  requester: string;
  postedAt: number;
  maxFee: bigint;
  status: string;
  attempts: number;
  provedAt: number | null;
  /** The price paid, if proved. */
  paid: bigint | null;
  prover: string | null;
  /** False for a griefer's job: its inputs have no valid witness, or its verifier is a rug pull. */
  provable: boolean;
}

export interface ClaimResult {
  at: number;
  jobId: bigint;
  attempt: number;
  price: bigint;
  agent: string;
  strategy: string;
  /** The lowest reservation among honest provers able to claim the job at that block (a free slot and stake). */
  cheapestCapable: bigint | null;
  /** Whether the job's price was below `cheapestCapable` a block earlier: the claim came at the crossing, rather
   *  than after the job waited for a prover to be free (when its price has risen past every reservation). */
  atCrossing: boolean;
  /** Whether the job's price rises more than 2% of its maximum a block (what `proofmarket-requester post` warns of):
   *  a claim then may lock up to one such step over a reservation. */
  steepRamp: boolean;
}

export interface RequesterResult {
  name: string;
  jobs: number;
  proved: number;
  maxOffered: bigint;
  paid: bigint;
  /** What the requester's wealth fell by: prices paid, less slashes' requester shares. */
  spent: bigint;
  gasTokens: bigint;
  /** Whether it is a griefer (its jobs cannot be proved), and how. */
  griefer: boolean;
  griefs: NonNullable<RequesterSpec["griefs"]> | null;
  timesToProof: number[];
}

export interface SimResult {
  scenario: Scenario;
  agents: AgentResult[];
  requesters: RequesterResult[];
  jobs: JobResult[];
  claims: ClaimResult[];
  /** The circuits the worker's start-up check refused (a rug pull's, when the check is on), with its reasons. */
  refusedCircuits: { circuitId: bigint; reason: string }[];
  blocks: number;
  seconds: number;
}

interface Ledger {
  name: string;
  addresses: string[];
  gasUsed: bigint;
}

export async function runSimulation(scenario: Scenario, log: (line: string) => void = () => {}): Promise<SimResult> {
  const random = seededRandom(scenario.seed);
  const agentCount = scenario.provers.length + scenario.provers.filter((p) => p.strategy === "self-reassigner").length;
  const chain = await openSimChain(scenario, 2 + scenario.requesters.length + agentCount + scenario.keepers);
  const signers = chain.signers.slice(2);
  const take = () => signers.shift()!;

  const requesters = scenario.requesters.map((spec) => ({
    spec,
    signer: take(),
    /** A rug-pull griefer's circuit and verifier, and whether it has pulled it yet. */
    rug: null as { circuitId: bigint; verifier: unknown; pulled: boolean } | null,
  }));
  const proverSigners = scenario.provers.map(
    (spec) => [take(), spec.strategy === "self-reassigner" ? take() : null] as const,
  );
  // Each keeper with the attempts it has sent a reassignment for, as the worker's keeper remembers them.
  const keepers = Array.from({ length: scenario.keepers }, () => [take(), new Set<string>()] as const);
  const setupGas = new Map<string, bigint>();
  for (const r of requesters)
    if (r.spec.griefs === "rug-pull") {
      const { circuitId, rug, gasUsed } = await chain.registerRugPull(r.signer);
      r.rug = { circuitId, verifier: rug, pulled: false };
      setupGas.set(r.spec.name, gasUsed);
    }
  // Every prover runs the worker's start-up check on every circuit of the market before it claims anything.
  const trust = await checkCircuits(
    chain,
    [chain.circuitId, ...requesters.flatMap((r) => (r.rug ? [r.rug.circuitId] : []))],
    scenario.checkVerifierBytecode,
  );
  const agents = scenario.provers.map(
    (spec, i) => new ProverAgent(spec, proverSigners[i][0], proverSigners[i][1], scenario, trust.served),
  );
  for (const a of agents) {
    for (const s of [a.signer, ...(a.second ? [a.second] : [])])
      await chain.send(s, "stake", [a.spec.stake / (a.second ? 2n : 1n)]);
  }
  await chain.mine(chain.start + 1, []);

  const ledgers: Ledger[] = [
    ...agents.map((a) => ({ name: a.spec.name, addresses: a.addresses, gasUsed: 0n })),
    ...keepers.map(([k], i) => ({ name: `keeper-${i + 1}`, addresses: [k.address.toLowerCase()], gasUsed: 0n })),
    ...requesters.map((r) => ({
      name: r.spec.name,
      addresses: [r.signer.address.toLowerCase()],
      gasUsed: setupGas.get(r.spec.name) ?? 0n,
    })),
  ];
  const ledgerOf = (address: string) => ledgers.find((l) => l.addresses.includes(address.toLowerCase()))!;
  const wealthAtStart = new Map<string, bigint>();
  for (const l of ledgers) wealthAtStart.set(l.name, await wealth(chain, l.addresses));

  const preflightCheck = createSharedPreflight(chain.circuitId);
  const book = new JobBook();
  const jobs = new Map<bigint, JobResult>();
  const claims: ClaimResult[] = [];
  const stats = new Map<ProverAgent, { claims: number; proofs: number; fees: bigint; slashed: bigint }>(
    agents.map((a) => [a, { claims: 0, proofs: 0, fees: 0n, slashed: 0n }]),
  );
  const agentOf = (address: unknown) => agents.find((a) => a.owns(address as string)) ?? null;

  let now = chain.start + 1;
  let nextArrival = now + random.exponential(scenario.meanArrivalSeconds);
  let posted = 0;
  let lastPostedAt = now;
  let blocks = 0;
  const totalWeight = scenario.requesters.reduce((s, r) => s + r.weight, 0);
  const pickRequester = () => {
    let x = random.next() * totalWeight;
    for (const r of requesters) if ((x -= r.spec.weight) < 0) return r;
    return requesters[requesters.length - 1];
  };

  for (;;) {
    const next = now + scenario.blockSeconds;
    const active = [...book.jobs.values()].filter((j) => j.status === "Open" || j.status === "Claimed");
    if (posted >= scenario.jobs && active.length === 0) break;
    // Every job expires `lifetime` after its posting and its requester then expires it: a job still active well after
    // that is a fault of the simulation, not a market that takes long.
    if (posted >= scenario.jobs && now > lastPostedAt + scenario.lifetime + 100 * scenario.blockSeconds)
      throw new Error(
        `jobs still active long after every expiry: ${active
          .slice(0, 10)
          .map((j) => `${j.jobId} (${j.status}, attempt ${j.attempt})`)
          .join(", ")}`,
      );

    const actions: Action[] = [];
    const posts: { signer: HardhatEthersSigner; request: Record<string, unknown> }[] = [];
    while (posted < scenario.jobs && nextArrival <= next) {
      const r = pickRequester();
      const [lo, hi] = r.spec.maxFee;
      const maxFee = lo + ((hi - lo) * BigInt(random.int(1_000_001))) / 1_000_000n;
      posts.push({
        signer: r.signer,
        request: chain.request(
          r.spec.griefs === "unprovable-inputs" ? "unprovable" : random.int(scenario.inputSets),
          { minFee: maxFee / DEFAULT_MIN_DIVISOR, maxFee, rampDuration: r.spec.rampSeconds },
          now,
          r.rug?.circuitId,
        ),
      });
      posted++;
      lastPostedAt = next;
      nextArrival += random.exponential(scenario.meanArrivalSeconds);
    }

    const freeStake = new Map<string, bigint>();
    for (const a of agents)
      for (const address of a.addresses) {
        const acct = await chain.market.account(address);
        freeStake.set(address, acct.staked - acct.locked);
      }
    // The worker's preflight of each open job's inputs (once per document, shared: sim/preflight.ts).
    const refused = new Map<bigint, string>();
    for (const job of book.jobs.values())
      if (job.status === "Open") {
        const why = await preflightCheck.verdict(job);
        if (why !== null) refused.set(job.jobId, why);
      }
    const world: World = {
      // A list, not the map's iterator: every agent reads it.
      book: [...book.jobs.values()],
      now,
      next,
      freeStake: (address) => freeStake.get(address.toLowerCase()) ?? 0n,
      unprovable: (jobId) => refused.get(jobId) ?? null,
    };
    // The lowest reservation among the honest provers the decision lets claim each open job now, and whether the
    // job's price was still below it at this block (so that a claim in the next block is one at the crossing).
    const cheapest = new Map<bigint, bigint>();
    const belowCheapest = new Set<bigint>();
    for (const job of book.jobs.values()) {
      if (job.status !== "Open") continue;
      for (const a of agents)
        if (a.spec.strategy === "honest" && a.capable(job, world)) {
          const c = cheapest.get(job.jobId);
          if (c === undefined || a.reservation < c) cheapest.set(job.jobId, a.reservation);
        }
      const c = cheapest.get(job.jobId);
      if (c !== undefined && priceAt(job.terms, BigInt(now)) < c) belowCheapest.add(job.jobId);
    }
    for (const a of agents) actions.push(...a.plan(world));
    for (const [k, reassigned] of keepers) actions.push(...keeperPlan(world, k, reassigned));
    // A requester takes back the escrow of its own jobs that expired unproven (anyone may; keepers usually do first).
    for (const job of book.jobs.values())
      if ((job.status === "Open" || job.status === "Claimed") && next > Number(job.terms.expiresAt)) {
        const owner = requesters.find((r) => r.signer.address.toLowerCase() === job.terms.requester.toLowerCase());
        if (owner) actions.push({ agent: null, from: owner.signer, method: "expire", jobId: job.jobId });
      }

    // A rug-pull griefer switches its verifier to rejecting once one of its jobs is claimed: the claimant's proof,
    // valid, is then refused.
    const pulls: Action[] = [];
    for (const r of requesters)
      if (
        r.rug &&
        !r.rug.pulled &&
        world.book.some((j) => j.terms.circuitId === r.rug!.circuitId && j.status === "Claimed")
      ) {
        r.rug.pulled = true;
        pulls.push({ agent: null, from: r.signer, method: "pull", jobId: 0n });
      }

    const sent: { hash: string; from: string; action?: Action }[] = [];
    for (const p of posts) {
      sent.push({ hash: await chain.send(p.signer, "postJob", [p.request]), from: p.signer.address });
    }
    const send = async (action: Action) => {
      let hash: string;
      if (action.method === "pull") {
        const rug = requesters.find((r) => r.signer === action.from)!.rug!;
        hash = await chain.send(action.from, "pull", [], rug.verifier);
      } else {
        const job = book.jobs.get(action.jobId)!;
        const args: unknown[] = [action.jobId, action.terms ?? job.terms];
        if (action.method === "submitProof") {
          const proof = chain.proofs.find((p) => p.commitment === job.terms.inputsCommitment)!;
          args.push(proof.proof, proof.publicSignals);
        }
        hash = await chain.send(action.from, action.method, args);
      }
      sent.push({ hash, from: action.from.address, action });
      if (action.then) await send(action.then);
    };
    // A rug pull goes first: its griefer front-runs the submissions it means to refuse.
    for (const action of [...pulls, ...random.shuffle(actions)]) await send(action);
    const receipts = await chain.mine(
      next,
      sent.map((s) => s.hash),
    );
    for (const s of sent) ledgerOf(s.from).gasUsed += receipts.get(s.hash)!.gasUsed;
    blocks++;
    now = next;
    // A refused submission of a valid proof: the worker's own reaction (a verifier's refusal: abandon at once, circuit
    // out of service).
    for (const s of sent)
      if (s.action?.agent && s.action.method === "submitProof" && !receipts.get(s.hash)!.ok) {
        const refusal =
          (await explainRevert(
            { receipt: { hash: s.hash, blockNumber: await chain.blockNumber() } },
            chain.ethers.provider,
          )) ?? UNKNOWN_REVERT;
        await s.action.agent.submissionRefused(book.jobs.get(s.action.jobId)!, refusal, s.hash, {
          market: chain.market,
          now,
        });
      }

    const events = await chain.events(await chain.blockNumber());
    book.apply(events);
    for (const e of events) {
      const a = e.args as Record<string, any>;
      const jobId = a.jobId as bigint;
      if (e.name === "JobPosted") {
        const requester = requesters.find(
          (r) => r.signer.address.toLowerCase() === (a.requester as string).toLowerCase(),
        )!;
        jobs.set(jobId, {
          jobId,
          requester: requester.spec.name,
          postedAt: e.timestamp,
          maxFee: a.maxFee,
          status: "Open",
          attempts: 0,
          provedAt: null,
          paid: null,
          prover: null,
          provable: requester.spec.griefs === undefined,
        });
        continue;
      }
      const job = jobs.get(jobId);
      if (job === undefined) continue;
      const agent = agentOf(a.prover);
      if (e.name === "JobClaimed") {
        job.attempts++;
        job.status = "Claimed";
        claims.push({
          at: e.timestamp,
          jobId,
          attempt: Number(a.attempt),
          price: a.price,
          agent: agent?.spec.name ?? "?",
          strategy: agent?.spec.strategy ?? "?",
          cheapestCapable: cheapest.get(jobId) ?? null,
          atCrossing: belowCheapest.has(jobId),
          steepRamp: steepRise(book.jobs.get(jobId)!.terms) !== null,
        });
        if (agent) {
          stats.get(agent)!.claims++;
          agent.claims.set(jobId, {
            attempt: a.attempt,
            claimedAt: e.timestamp,
            deadline: Number(a.deadline),
            readyAt: e.timestamp + agent.spec.provingSeconds,
            by: (a.prover as string).toLowerCase(),
          });
        }
      } else if (e.name === "JobProved") {
        Object.assign(job, {
          status: "Proved",
          provedAt: e.timestamp,
          paid: a.price,
          prover: agent?.spec.name ?? null,
        });
        if (agent) {
          const s = stats.get(agent)!;
          s.proofs++;
          s.fees += a.price;
          agent.claims.delete(jobId);
        }
      } else if (e.name === "JobReassigned" || e.name === "JobAbandoned" || e.name === "JobExpired") {
        if (e.name === "JobExpired") job.status = "Expired";
        else job.status = "Open";
        if (agent) {
          stats.get(agent)!.slashed += a.split.slashed as bigint;
          agent.claims.delete(jobId);
        }
      }
    }
    if (blocks % 100 === 0) log(`block ${blocks}: ${posted} of ${scenario.jobs} jobs posted, ${claims.length} claims`);
  }

  const gasTokens = (gas: bigint) => (gas * scenario.gasPrice * scenario.tokensPerEth) / WEI_PER_ETH;
  const result = async (l: Ledger) =>
    (await wealth(chain, l.addresses)) - wealthAtStart.get(l.name)! - gasTokens(l.gasUsed);
  const agentResults: AgentResult[] = [];
  for (const a of agents) {
    const s = stats.get(a)!;
    const l = ledgers.find((x) => x.name === a.spec.name)!;
    agentResults.push({
      name: a.spec.name,
      strategy: a.spec.strategy,
      reservation: a.reservation,
      ...s,
      gasTokens: gasTokens(l.gasUsed),
      provingCost: BigInt(a.computed.size) * a.provingCost,
      profit: (await result(l)) - BigInt(a.computed.size) * a.provingCost,
    });
  }
  for (const l of ledgers.filter((x) => x.name.startsWith("keeper-")))
    agentResults.push({
      name: l.name,
      strategy: "keeper",
      reservation: null,
      claims: 0,
      proofs: 0,
      fees: 0n,
      slashed: 0n,
      gasTokens: gasTokens(l.gasUsed),
      provingCost: 0n,
      profit: await result(l),
    });
  const requesterResults: RequesterResult[] = [];
  for (const r of requesters) {
    const mine = [...jobs.values()].filter((j) => j.requester === r.spec.name);
    const proved = mine.filter((j) => j.status === "Proved");
    const l = ledgers.find((x) => x.name === r.spec.name)!;
    requesterResults.push({
      name: r.spec.name,
      jobs: mine.length,
      proved: proved.length,
      maxOffered: proved.reduce((s, j) => s + j.maxFee, 0n),
      paid: proved.reduce((s, j) => s + j.paid!, 0n),
      spent: wealthAtStart.get(l.name)! - (await wealth(chain, l.addresses)),
      gasTokens: gasTokens(l.gasUsed),
      griefer: r.spec.griefs !== undefined,
      griefs: r.spec.griefs ?? null,
      timesToProof: proved.map((j) => j.provedAt! - j.postedAt),
    });
  }
  await preflightCheck.close();
  return {
    scenario,
    agents: agentResults,
    requesters: requesterResults,
    jobs: [...jobs.values()],
    claims,
    refusedCircuits: [...trust.refused].map(([circuitId, reason]) => ({ circuitId, reason })),
    blocks,
    seconds: now - chain.start,
  };
}

/** Tokens held, withdrawable from the market, and staked there (unbonding included). */
async function wealth(chain: SimChain, addresses: string[]): Promise<bigint> {
  let total = 0n;
  for (const address of addresses) {
    const acct = await chain.market.account(address);
    total +=
      (await chain.token.balanceOf(address)) +
      (await chain.market.withdrawable(address)) +
      acct.staked +
      acct.unbonding;
  }
  return total;
}
