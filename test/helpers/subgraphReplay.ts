/**
 * Replays market logs through the subgraph's transitions (subgraph/src/transitions.ts) the way its mapping
 * (subgraph/src/mapping.ts) does, with plain maps for the store, and returns the entities as the subgraph would
 * serve them over GraphQL (amounts and ids as strings, absent values as null). The mapping's glue (which event
 * field goes where) is mirrored here; the transitions themselves are the very code the subgraph compiles.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { Interface, Log } from "ethers";
import { buildSchema, isObjectType } from "graphql";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { PROOF_SYSTEMS } from "../../common/circuits/manifest.ts";
import { jobEventId } from "../../coordinator/indexer/rows.ts";
import {
  CircuitPrices,
  circuitClaimed,
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
  statsPosted,
  statsProved,
  statsRefunded,
  statsReopened,
  statsSlashed,
  statsStatusChanged,
} from "../../subgraph/src/transitions.ts";

const ZERO = "0x0000000000000000000000000000000000000000";

/** The Graph's directives and scalars, declared so graphql-js can read the subgraph schema. */
export const GRAPH_PRELUDE = `
directive @entity(immutable: Boolean, timeseries: Boolean) on OBJECT
directive @derivedFrom(field: String!) on FIELD_DEFINITION
scalar BigInt
scalar Bytes
scalar BigDecimal
scalar Int8
`;

/** subgraph/schema.graphql as written. */
export const subgraphSchemaText = () => readFileSync(path.join(REPO_ROOT, "subgraph", "schema.graphql"), "utf8");

/** The field names of each entity of the subgraph's schema. */
export function subgraphEntityFields(sdl = subgraphSchemaText()): Map<string, string[]> {
  const schema = buildSchema(GRAPH_PRELUDE + sdl);
  const out = new Map<string, string[]>();
  for (const type of Object.values(schema.getTypeMap()))
    if (isObjectType(type) && type.astNode?.directives?.some((d) => d.name.value === "entity"))
      out.set(type.name, Object.keys(type.getFields()));
  return out;
}

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
  const circuitPrices = new Map<string, CircuitPrices>();
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
        id: jobEventId(log.blockNumber, log.index), // mapping.ts's historyEntry: block and log index, zero-padded
        kind,
        blockNumber: log.blockNumber,
        txHash: log.transactionHash,
        timestamp,
        prover: null,
        attempt,
        minFee: null,
        maxFee: null,
        rampStart: null,
        price: null,
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
        circuitPrices.set(a.circuitId.toString(), new CircuitPrices());
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
          minFee: a.minFee.toString(),
          maxFee: a.maxFee.toString(),
          rampStart: Number(a.rampStart),
          rampDuration: Number(a.rampDuration),
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
        statsPosted(stats, job.maxFee);
        move(job, "");
        entry(job.id, "Posted", { minFee: job.minFee, maxFee: job.maxFee, rampStart: job.rampStart, bond: job.bond });
        break;
      }
      case "JobClaimed": {
        const job = jobs.get(a.jobId.toString())!;
        const previous = job.status;
        jobClaimed(job, lower(a.prover), Number(a.attempt), Number(a.deadline), a.price.toString());
        move(job, previous);
        const circuit = circuitPrices.get(job.circuit);
        if (circuit !== undefined) circuitClaimed(circuit, a.price.toString());
        proverClaimed(prover(a.prover), a.bond.toString());
        entry(job.id, "Claimed", {
          prover: lower(a.prover),
          deadline: Number(a.deadline),
          bond: a.bond.toString(),
          price: a.price.toString(),
        });
        break;
      }
      case "JobProved": {
        const job = jobs.get(a.jobId.toString())!;
        const previous = job.status;
        const outputs = [...a.outputs].map((o: bigint) => o.toString());
        jobProved(job, lower(a.prover), a.price.toString(), outputs, timestamp);
        statsProved(stats, a.price.toString(), job.maxFee, job.provedAt - job.postedAt);
        move(job, previous);
        proverPaid(prover(a.prover), job.bond, a.price.toString());
        entry(job.id, "Proved", {
          prover: lower(a.prover),
          price: a.price.toString(),
          refund: (BigInt(job.maxFee) - a.price).toString(),
          outputs,
        });
        break;
      }
      case "JobReassigned":
      case "JobAbandoned": {
        const job = jobs.get(a.jobId.toString())!;
        const previous = job.status;
        const bond = job.bond;
        const maxFee = job.maxFee;
        jobReopened(job, Number(a.attempt), a.newMinFee.toString(), a.newMaxFee.toString(), Number(a.newRampStart));
        statsSlashed(stats);
        statsReopened(stats, maxFee, job.maxFee);
        move(job, previous);
        const abandoned = parsed.name === "JobAbandoned";
        proverSlashed(prover(a.prover), bond, a.split.slashed.toString(), abandoned);
        entry(job.id, abandoned ? "Abandoned" : "Reassigned", {
          prover: lower(a.prover),
          minFee: a.newMinFee.toString(),
          rampStart: Number(a.newRampStart),
          maxFee: a.newMaxFee.toString(),
          slashed: a.split.slashed.toString(),
          keeper: abandoned ? null : lower(a.keeper),
        });
        break;
      }
      case "JobCancelled": {
        const job = jobs.get(a.jobId.toString())!;
        const previous = job.status;
        jobCancelled(job);
        statsRefunded(stats, job.maxFee);
        move(job, previous);
        entry(job.id, "Cancelled", { refund: a.refund.toString() });
        break;
      }
      case "JobExpired": {
        const job = jobs.get(a.jobId.toString())!;
        const previous = job.status;
        const bond = job.bond;
        jobExpired(job);
        statsRefunded(stats, job.maxFee);
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
    circuits: [...circuits.values()].map((c) => ({ ...c, ...circuitPrices.get(c.id as string) })),
    marketStats: {
      id: MARKET_STATS_ID,
      open: stats.open,
      claimed: stats.claimed,
      proved: stats.proved,
      cancelled: stats.cancelled,
      expired: stats.expired,
      feesPaid: stats.feesPaid,
      requesterSavings: stats.requesterSavings,
      escrowed: stats.escrowed,
      slashes: stats.slashes,
      medianTimeToProof: orNull(stats.medianTimeToProof),
    },
  };
}
