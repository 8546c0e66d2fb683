/**
 * The subgraph's event handlers: each loads the entities an event touches into plain records, applies the
 * event's transition from transitions.ts (the logic shared with the TypeScript test), and saves them back.
 * The records keep addresses and hashes as lowercase hex strings and amounts as decimal strings (as the TypeScript
 * test does); the entities keep them as Bytes and BigInt, as the coordinator's API types them.
 */
import { Address, BigInt, Bytes, ethereum, ValueKind } from "@graphprotocol/graph-ts";
import {
  CircuitRegistered,
  JobAbandoned,
  JobCancelled,
  JobClaimed,
  JobExpired,
  JobPosted,
  JobProved,
  JobReassigned,
  Staked,
  Unstaked,
  UnstakeRequested,
} from "../generated/ProofMarket/ProofMarket";
import { Circuit, Job, JobEvent, MarketStats, ProofTimes, Prover } from "../generated/schema";
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
} from "./transitions";

const SYSTEMS = ["groth16", "plonk", "fflonk"];

function hex(a: Address): string {
  return a.toHexString();
}

function amount(v: BigInt): string {
  return v.toString();
}

function bytes(hexString: string): Bytes {
  return Bytes.fromHexString(hexString);
}

function nullableBytes(hexString: string | null): Bytes | null {
  return hexString === null ? null : Bytes.fromHexString(hexString);
}

function nullableHex(b: Bytes | null): string | null {
  return b === null ? null : b.toHexString();
}

// ---- records <-> entities

function loadJob(id: string): JobRecord {
  const e = Job.load(id)!;
  const r = new JobRecord();
  r.id = id;
  r.circuit = e.circuit;
  r.requester = e.requester.toHexString();
  r.status = e.status;
  r.minFee = amount(e.minFee);
  r.maxFee = amount(e.maxFee);
  r.rampStart = e.rampStart;
  r.rampDuration = e.rampDuration;
  const locked = e.lockedPrice;
  r.lockedPrice = locked === null ? null : amount(locked);
  r.bond = amount(e.bond);
  r.provingWindow = e.provingWindow;
  r.expiresAt = e.expiresAt;
  r.inputsCommitment = e.inputsCommitment.toHexString();
  r.inputsHash = e.inputsHash.toHexString();
  r.inputsURI = e.inputsURI;
  r.attempt = e.attempt;
  r.assignee = nullableHex(e.assignee);
  const deadline = e.get("deadline");
  r.deadline = deadline === null || deadline.kind == ValueKind.NULL ? NONE : e.deadline;
  r.outputs = e.outputs;
  r.postedAt = e.postedAt;
  r.postedAtBlock = e.postedAtBlock;
  const provedAt = e.get("provedAt");
  r.provedAt = provedAt === null || provedAt.kind == ValueKind.NULL ? NONE : e.provedAt;
  return r;
}

function saveJob(r: JobRecord): void {
  const e = new Job(r.id);
  e.circuit = r.circuit;
  e.requester = bytes(r.requester);
  e.status = r.status;
  e.minFee = BigInt.fromString(r.minFee);
  e.maxFee = BigInt.fromString(r.maxFee);
  e.rampStart = r.rampStart;
  e.rampDuration = r.rampDuration;
  const locked = r.lockedPrice;
  if (locked === null) e.unset("lockedPrice");
  else e.lockedPrice = BigInt.fromString(locked);
  e.bond = BigInt.fromString(r.bond);
  e.provingWindow = r.provingWindow;
  e.expiresAt = r.expiresAt;
  e.inputsCommitment = bytes(r.inputsCommitment);
  e.inputsHash = bytes(r.inputsHash);
  e.inputsURI = r.inputsURI;
  e.attempt = r.attempt;
  const assignee = r.assignee;
  if (assignee === null) e.unset("assignee");
  else e.assignee = nullableBytes(assignee);
  if (r.deadline == NONE) e.unset("deadline");
  else e.deadline = r.deadline;
  const outputs = r.outputs;
  if (outputs === null) e.unset("outputs");
  else e.outputs = outputs;
  e.postedAt = r.postedAt;
  e.postedAtBlock = r.postedAtBlock;
  if (r.provedAt == NONE) e.unset("provedAt");
  else e.provedAt = r.provedAt;
  e.save();
}

function loadProver(address: string): ProverRecord {
  const r = new ProverRecord();
  r.id = address;
  const e = Prover.load(bytes(address));
  if (e === null) return r;
  r.staked = amount(e.staked);
  r.locked = amount(e.locked);
  r.unbonding = amount(e.unbonding);
  r.jobsProved = e.jobsProved;
  r.jobsMissed = e.jobsMissed;
  r.jobsAbandoned = e.jobsAbandoned;
  r.slashed = amount(e.slashed);
  r.earned = amount(e.earned);
  return r;
}

function saveProver(r: ProverRecord): void {
  const e = new Prover(bytes(r.id));
  e.address = bytes(r.id);
  e.staked = BigInt.fromString(r.staked);
  e.locked = BigInt.fromString(r.locked);
  e.unbonding = BigInt.fromString(r.unbonding);
  e.jobsProved = r.jobsProved;
  e.jobsMissed = r.jobsMissed;
  e.jobsAbandoned = r.jobsAbandoned;
  e.slashed = BigInt.fromString(r.slashed);
  e.earned = BigInt.fromString(r.earned);
  e.save();
}

function loadStats(): StatsRecord {
  const r = new StatsRecord();
  const e = MarketStats.load(MARKET_STATS_ID);
  if (e === null) return r;
  r.open = e.open;
  r.claimed = e.claimed;
  r.proved = e.proved;
  r.cancelled = e.cancelled;
  r.expired = e.expired;
  r.feesPaid = amount(e.feesPaid);
  r.requesterSavings = amount(e.requesterSavings);
  r.escrowed = amount(e.escrowed);
  r.slashes = e.slashes;
  const times = ProofTimes.load(MARKET_STATS_ID);
  if (times !== null) r.timesToProof = times.sorted;
  return r;
}

function saveStats(r: StatsRecord): void {
  const e = new MarketStats(MARKET_STATS_ID);
  e.open = r.open;
  e.claimed = r.claimed;
  e.proved = r.proved;
  e.cancelled = r.cancelled;
  e.expired = r.expired;
  e.feesPaid = BigInt.fromString(r.feesPaid);
  e.requesterSavings = BigInt.fromString(r.requesterSavings);
  e.escrowed = BigInt.fromString(r.escrowed);
  e.slashes = r.slashes;
  if (r.medianTimeToProof == NONE) e.unset("medianTimeToProof");
  else e.medianTimeToProof = r.medianTimeToProof;
  e.save();
  const times = new ProofTimes(MARKET_STATS_ID);
  times.sorted = r.timesToProof;
  times.save();
}

/** A history entry with the fields every kind has (attempt: the job's, after the event); handlers add the rest. */
function historyEntry(event: ethereum.Event, job: JobRecord, kind: string): JobEvent {
  const jobId = job.id;
  // Block number and log index, zero-padded: ids sort in chain order (the coordinator's are the same strings).
  const e = new JobEvent(
    event.block.number.toString().padStart(10, "0") + "-" + event.logIndex.toString().padStart(6, "0"),
  );
  e.job = jobId;
  e.attempt = job.attempt;
  e.kind = kind;
  e.blockNumber = event.block.number.toI32();
  e.txHash = event.transaction.hash;
  e.timestamp = event.block.timestamp.toI32();
  return e;
}

/** Saves the job and moves the market's status counts with it. */
function saveJobAndStats(job: JobRecord, previousStatus: string, stats: StatsRecord): void {
  statsStatusChanged(stats, previousStatus, job.status);
  saveJob(job);
  saveStats(stats);
}

// ---- registry

export function handleCircuitRegistered(event: CircuitRegistered): void {
  const p = event.params;
  const c = new Circuit(p.circuitId.toString());
  c.name = p.name;
  c.verifier = p.verifier;
  c.system = SYSTEMS[p.system];
  c.nPublicOutputs = p.nPublicOutputs;
  c.nPublicInputs = p.nPublicInputs;
  if (p.batchVerifier.equals(Address.zero())) c.unset("batchVerifier");
  else c.batchVerifier = p.batchVerifier;
  c.registrant = p.registrant;
  c.manifestHash = p.manifestHash;
  c.artifactsURI = p.artifactsURI;
  c.recentLockedPrices = new Array<BigInt>();
  c.unset("medianLockedPrice");
  c.save();
}

/** A claim of one of the circuit's jobs locked `price`: the circuit's recent prices and their median move. */
function circuitPriceLocked(circuitId: string, price: string): void {
  const c = Circuit.load(circuitId);
  if (c === null) return; // (a job's circuit is registered before it; never null)
  const r = new CircuitPrices();
  const kept = c.recentLockedPrices;
  for (let i = 0; i < kept.length; i++) r.recentLockedPrices.push(amount(kept[i]));
  circuitClaimed(r, price);
  const recent = new Array<BigInt>();
  for (let i = 0; i < r.recentLockedPrices.length; i++) recent.push(BigInt.fromString(r.recentLockedPrices[i]));
  c.recentLockedPrices = recent;
  const median = r.medianLockedPrice;
  if (median === null) c.unset("medianLockedPrice");
  else c.medianLockedPrice = BigInt.fromString(median);
  c.save();
}

// ---- staking

export function handleStaked(event: Staked): void {
  const prover = loadProver(hex(event.params.prover));
  proverStaked(prover, amount(event.params.staked));
  saveProver(prover);
}

export function handleUnstakeRequested(event: UnstakeRequested): void {
  const prover = loadProver(hex(event.params.prover));
  proverUnstakeRequested(prover, amount(event.params.amount), amount(event.params.unbonding));
  saveProver(prover);
}

export function handleUnstaked(event: Unstaked): void {
  const prover = loadProver(hex(event.params.prover));
  proverUnstaked(prover, amount(event.params.amount));
  saveProver(prover);
}

// ---- jobs

export function handleJobPosted(event: JobPosted): void {
  const p = event.params;
  const job = new JobRecord();
  job.id = p.jobId.toString();
  job.circuit = p.circuitId.toString();
  job.requester = hex(p.requester);
  job.minFee = amount(p.minFee);
  job.maxFee = amount(p.maxFee);
  job.rampStart = p.rampStart.toI32();
  job.rampDuration = p.rampDuration.toI32();
  job.bond = amount(p.bond);
  job.provingWindow = p.provingWindow.toI32();
  job.expiresAt = p.expiresAt.toI32();
  job.inputsCommitment = p.inputsCommitment.toHexString();
  job.inputsHash = p.inputsHash.toHexString();
  job.inputsURI = p.inputsURI;
  job.postedAt = event.block.timestamp.toI32();
  job.postedAtBlock = event.block.number.toI32();
  const stats = loadStats();
  statsPosted(stats, job.maxFee);
  saveJobAndStats(job, "", stats);
  const h = historyEntry(event, job, "Posted");
  h.minFee = p.minFee;
  h.maxFee = p.maxFee;
  h.rampStart = job.rampStart;
  h.bond = p.bond;
  h.save();
}

export function handleJobClaimed(event: JobClaimed): void {
  const p = event.params;
  const job = loadJob(p.jobId.toString());
  const previous = job.status;
  jobClaimed(job, hex(p.prover), p.attempt, p.deadline.toI32(), amount(p.price));
  saveJobAndStats(job, previous, loadStats());
  circuitPriceLocked(job.circuit, amount(p.price));
  const prover = loadProver(hex(p.prover));
  proverClaimed(prover, amount(p.bond));
  saveProver(prover);
  const h = historyEntry(event, job, "Claimed");
  h.prover = p.prover;
  h.deadline = p.deadline.toI32();
  h.bond = p.bond;
  h.price = p.price;
  h.save();
}

export function handleJobProved(event: JobProved): void {
  const p = event.params;
  const job = loadJob(p.jobId.toString());
  const previous = job.status;
  const outputs = new Array<string>();
  for (let i = 0; i < p.outputs.length; i++) outputs.push(p.outputs[i].toString());
  jobProved(job, hex(p.prover), amount(p.price), outputs, event.block.timestamp.toI32());
  const stats = loadStats();
  statsProved(stats, amount(p.price), job.maxFee, job.provedAt - job.postedAt);
  saveJobAndStats(job, previous, stats);
  const prover = loadProver(hex(p.prover));
  proverPaid(prover, job.bond, amount(p.price));
  saveProver(prover);
  const h = historyEntry(event, job, "Proved");
  h.prover = p.prover;
  h.price = p.price;
  h.refund = BigInt.fromString(job.maxFee).minus(p.price);
  h.outputs = outputs;
  h.save();
}

function reopen(
  event: ethereum.Event,
  kind: string,
  jobId: BigInt,
  proverAddress: Address,
  attempt: i32,
  newMinFee: BigInt,
  newMaxFee: BigInt,
  newRampStart: BigInt,
  slashed: BigInt,
): JobEvent {
  const job = loadJob(jobId.toString());
  const previous = job.status;
  const bond = job.bond;
  const maxFee = job.maxFee;
  jobReopened(job, attempt, amount(newMinFee), amount(newMaxFee), newRampStart.toI32());
  const stats = loadStats();
  statsSlashed(stats);
  statsReopened(stats, maxFee, job.maxFee);
  saveJobAndStats(job, previous, stats);
  const prover = loadProver(hex(proverAddress));
  proverSlashed(prover, bond, amount(slashed), kind == "Abandoned");
  saveProver(prover);
  const h = historyEntry(event, job, kind);
  h.prover = proverAddress;
  h.minFee = newMinFee;
  h.rampStart = newRampStart.toI32();
  h.maxFee = newMaxFee;
  h.slashed = slashed;
  return h;
}

export function handleJobReassigned(event: JobReassigned): void {
  const p = event.params;
  const h = reopen(
    event,
    "Reassigned",
    p.jobId,
    p.prover,
    p.attempt,
    p.newMinFee,
    p.newMaxFee,
    p.newRampStart,
    p.split.slashed,
  );
  h.keeper = p.keeper;
  h.save();
}

export function handleJobAbandoned(event: JobAbandoned): void {
  const p = event.params;
  reopen(
    event,
    "Abandoned",
    p.jobId,
    p.prover,
    p.attempt,
    p.newMinFee,
    p.newMaxFee,
    p.newRampStart,
    p.split.slashed,
  ).save();
}

export function handleJobCancelled(event: JobCancelled): void {
  const job = loadJob(event.params.jobId.toString());
  const previous = job.status;
  jobCancelled(job);
  const stats = loadStats();
  statsRefunded(stats, job.maxFee);
  saveJobAndStats(job, previous, stats);
  const h = historyEntry(event, job, "Cancelled");
  h.refund = event.params.refund;
  h.save();
}

export function handleJobExpired(event: JobExpired): void {
  const p = event.params;
  const job = loadJob(p.jobId.toString());
  const previous = job.status;
  const bond = job.bond;
  jobExpired(job);
  const stats = loadStats();
  statsRefunded(stats, job.maxFee);
  const held = !p.prover.equals(Address.zero());
  if (held) statsSlashed(stats);
  saveJobAndStats(job, previous, stats);
  const h = historyEntry(event, job, "Expired");
  h.refund = p.refund;
  h.slashed = p.split.slashed;
  if (held) {
    const prover = loadProver(hex(p.prover));
    proverSlashed(prover, bond, amount(p.split.slashed), false);
    saveProver(prover);
    h.prover = p.prover;
  }
  h.save();
}
