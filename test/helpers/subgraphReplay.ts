/**
 * Replays market logs through the subgraph's transitions (subgraph/src/transitions.ts) the way its mapping
 * (subgraph/src/mapping.ts) does, with plain maps for the store, and returns the entities as the subgraph would
 * serve them over GraphQL (amounts and ids as strings, absent values as null). The mapping's glue (which event
 * field goes where) is mirrored here; the transitions themselves are the very code the subgraph compiles.
 */
import type { Interface, Log } from "ethers";
import { PROOF_SYSTEMS } from "../../common/circuits/manifest.ts";
import {
  JobRecord,
  jobCancelled,
  jobClaimed,
  jobExpired,
  jobProved,
  jobReopened,
  MARKET_STATS_ID,
  NONE,
  ProverRecord,
  proverClaimed,
  proverPaid,
  proverSlashed,
  proverStaked,
  proverUnstaked,
  proverUnstakeRequested,
  StatsRecord,
  statsProved,
  statsSlashed,
  statsStatusChanged,
} from "../../subgraph/src/transitions.ts";

const ZERO = "0x0000000000000000000000000000000000000000";

type Entry = Record<string, unknown>;

export interface SubgraphEntities {
  jobs: Entry[];
  provers: Entry[];
  circuits: Entry[];
  marketStats: Entry;
}

export async function replayThroughSubgraph(
  iface: Interface,
  logs: Log[],
  timestampOf: (blockNumber: number) => Promise<number>,
): Promise<SubgraphEntities> {
  const jobs = new Map<string, JobRecord>();
  const provers = new Map<string, ProverRecord>();
  const circuits = new Map<string, Entry>();
  const history = new Map<string, Entry[]>();
  const stats = new StatsRecord();
  const prover = (address: string) => {
    const key = address.toLowerCase();
    if (!provers.has(key)) provers.set(key, Object.assign(new ProverRecord(), { id: key }));
    return provers.get(key)!;
  };
  const move = (job: JobRecord, previous: string) => statsStatusChanged(stats, previous, job.status);

  for (const log of logs) {
    const parsed = iface.parseLog(log);
    if (parsed === null) continue;
    const a = parsed.args;
    const timestamp = await timestampOf(log.blockNumber);
    const entry = (jobId: string, kind: string, fields: Entry = {}) => {
      const list = history.get(jobId) ?? [];
      const attempt = jobs.get(jobId)!.attempt;
      list.push({
        id: `${log.transactionHash}:${log.index}`,
        kind,
        blockNumber: log.blockNumber,
        txHash: log.transactionHash,
        timestamp,
        prover: null,
        attempt,
        fee: null,
        bond: null,
        deadline: null,
        refund: null,
        keeper: null,
        slashed: null,
        outputs: null,
        ...fields,
      });
      history.set(jobId, list);
    };
    const lower = (x: string) => x.toLowerCase();
    switch (parsed.name) {
      case "CircuitRegistered":
        circuits.set(a.circuitId.toString(), {
          id: a.circuitId.toString(),
          name: a.name,
          verifier: lower(a.verifier),
          system: PROOF_SYSTEMS[Number(a.system)],
          nPublicOutputs: Number(a.nPublicOutputs),
          nPublicInputs: Number(a.nPublicInputs),
          batchVerifier: a.batchVerifier === ZERO ? null : lower(a.batchVerifier),
          registrant: lower(a.registrant),
          manifestHash: a.manifestHash,
          artifactsURI: a.artifactsURI,
        });
        break;
      case "Staked":
        proverStaked(prover(a.prover), a.staked.toString());
        break;
      case "UnstakeRequested":
        proverUnstakeRequested(prover(a.prover), a.amount.toString(), a.unbonding.toString());
        break;
      case "Unstaked":
        proverUnstaked(prover(a.prover), a.amount.toString());
        break;
      case "JobPosted": {
        const job = Object.assign(new JobRecord(), {
          id: a.jobId.toString(),
          circuit: a.circuitId.toString(),
          requester: lower(a.requester),
          fee: a.fee.toString(),
          bond: a.bond.toString(),
          provingWindow: Number(a.provingWindow),
          expiresAt: Number(a.expiresAt),
          inputsCommitment: a.inputsCommitment,
          inputsHash: a.inputsHash,
          inputsURI: a.inputsURI,
          postedAt: timestamp,
          postedAtBlock: log.blockNumber,
        });
        jobs.set(job.id, job);
        move(job, "");
        entry(job.id, "Posted", { fee: job.fee, bond: job.bond });
        break;
      }
      case "JobClaimed": {
        const job = jobs.get(a.jobId.toString())!;
        const previous = job.status;
        jobClaimed(job, lower(a.prover), Number(a.attempt), Number(a.deadline));
        move(job, previous);
        proverClaimed(prover(a.prover), a.bond.toString());
        entry(job.id, "Claimed", {
          prover: lower(a.prover),
          deadline: Number(a.deadline),
          bond: a.bond.toString(),
        });
        break;
      }
      case "JobProved": {
        const job = jobs.get(a.jobId.toString())!;
        const previous = job.status;
        const outputs = [...a.outputs].map((o: bigint) => o.toString());
        jobProved(job, lower(a.prover), outputs, timestamp);
        statsProved(stats, a.fee.toString(), job.provedAt - job.postedAt);
        move(job, previous);
        proverPaid(prover(a.prover), job.bond, a.fee.toString());
        entry(job.id, "Proved", { prover: lower(a.prover), fee: a.fee.toString(), outputs });
        break;
      }
      case "JobReassigned":
      case "JobAbandoned": {
        const job = jobs.get(a.jobId.toString())!;
        const previous = job.status;
        const bond = job.bond;
        jobReopened(job, Number(a.attempt), a.newFee.toString());
        statsSlashed(stats);
        move(job, previous);
        const abandoned = parsed.name === "JobAbandoned";
        proverSlashed(prover(a.prover), bond, a.split.slashed.toString(), abandoned);
        entry(job.id, abandoned ? "Abandoned" : "Reassigned", {
          prover: lower(a.prover),
          fee: a.newFee.toString(),
          slashed: a.split.slashed.toString(),
          keeper: abandoned ? null : lower(a.keeper),
        });
        break;
      }
      case "JobCancelled": {
        const job = jobs.get(a.jobId.toString())!;
        const previous = job.status;
        jobCancelled(job);
        move(job, previous);
        entry(job.id, "Cancelled", { refund: a.refund.toString() });
        break;
      }
      case "JobExpired": {
        const job = jobs.get(a.jobId.toString())!;
        const previous = job.status;
        const bond = job.bond;
        jobExpired(job);
        const held = a.prover !== ZERO;
        if (held) {
          statsSlashed(stats);
          proverSlashed(prover(a.prover), bond, a.split.slashed.toString(), false);
        }
        move(job, previous);
        entry(job.id, "Expired", {
          refund: a.refund.toString(),
          slashed: a.split.slashed.toString(),
          prover: held ? lower(a.prover) : null,
        });
        break;
      }
    }
  }

  const orNull = (n: number) => (n === NONE ? null : n);
  return {
    jobs: [...jobs.values()].map((j) => ({
      ...j,
      circuit: { id: j.circuit },
      deadline: orNull(j.deadline),
      provedAt: orNull(j.provedAt),
      events: history.get(j.id) ?? [],
    })),
    provers: [...provers.values()].map((p) => ({ ...p, address: p.id })),
    circuits: [...circuits.values()],
    marketStats: {
      id: MARKET_STATS_ID,
      open: stats.open,
      claimed: stats.claimed,
      proved: stats.proved,
      cancelled: stats.cancelled,
      expired: stats.expired,
      feesPaid: stats.feesPaid,
      slashes: stats.slashes,
      medianTimeToProof: orNull(stats.medianTimeToProof),
    },
  };
}
