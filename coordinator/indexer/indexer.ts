/**
 * The chain indexer: reads the market's events up to `confirmations` blocks behind the head, in ranges, and writes
 * them with the state they derive (jobs, provers, circuits) in one database transaction per range, with the
 * checkpoint. Writing is idempotent (an event id already stored is skipped, so a restart, an overlap or a
 * duplicate delivery changes nothing). Before each range it checks that the checkpoint's block is still on the
 * chain; if not, it finds the fork point among the recent blocks it kept and rewinds: events above it are
 * deleted and the jobs and provers they touched are rebuilt from the events that remain.
 */
import type { JsonRpcProvider, Log } from "ethers";
import { PROOF_SYSTEMS } from "../../common/circuits/manifest.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import {
  emptyProver,
  foldJob,
  foldProver,
  JOB_EVENTS,
  type JobState,
  type MarketEvent,
  proverOf,
  STAKE_EVENTS,
} from "../../common/market/fold.ts";
import type { Db } from "../db/client.ts";
import { type ChangeRecorder, changeRecorder, type CommitChanges } from "../commitChanges.ts";
import { decodeArgs, encodeArgs, jobRow, jobState, lowercaseAddresses, proverRow, proverState } from "./rows.ts";

interface BlockHeader {
  number: number;
  hash: string;
  parentHash: string;
  timestamp: number;
}
type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

export interface IndexerOptions {
  db: Db;
  provider: JsonRpcProvider;
  marketAddress: string;
  /** The market's deployment block: backfill starts here. */
  startBlock: number;
  confirmations: number;
  /** Blocks per eth_getLogs request and per transaction. */
  rangeSize: number;
  /** How many recent blocks to keep for reorg detection (at least `confirmations`). */
  keepBlocks?: number;
  /** Called with the ids of the jobs a range (or a rewind) changed, once its transaction has committed. */
  onJobsChanged?: (jobIds: string[]) => void;
}

export interface SyncResult {
  from: number;
  to: number;
  events: number;
  rewoundTo?: number;
  /** What the range's commit changed; null after a rewind (anything above the fork may have changed). */
  changes: CommitChanges | null;
}

export function createIndexer(o: IndexerOptions) {
  const iface = connectMarket(o.marketAddress, o.provider).interface;
  const keep = Math.max(o.keepBlocks ?? 64, o.confirmations + 1);

  /**
   * A block header, read uncached: ethers answers getBlock() from a short-lived cache, and a reorg check must
   * see what the node says now.
   */
  async function blockAt(n: number): Promise<BlockHeader | null> {
    const b = await o.provider.send("eth_getBlockByNumber", [`0x${n.toString(16)}`, false]);
    return b === null
      ? null
      : { number: Number(b.number), hash: b.hash, parentHash: b.parentHash, timestamp: Number(b.timestamp) };
  }

  async function blocks(numbers: number[]): Promise<Map<number, BlockHeader>> {
    const found = await Promise.all([...new Set(numbers)].map(blockAt));
    return new Map(found.map((b) => [b!.number, b!]));
  }

  /**
   * Writes one range's logs: the events not stored yet, and the jobs, provers and circuits they change (a circuit's
   * registration is an upsert, written again on a re-index). The
   * range's jobs and provers are read once, folded in memory in log order, and written once each, and its events
   * are inserted together: a handful of statements per range instead of several per event. Returns how many
   * events were written.
   */
  async function writeRange(
    tx: Tx,
    logs: Log[],
    blockOf: Map<number, BlockHeader>,
    changed: ChangeRecorder,
  ): Promise<number> {
    const decoded = logs.flatMap((log) => {
      const parsed = iface.parseLog(log);
      if (parsed === null) return [];
      const args = lowercaseAddresses(parsed.args.toObject(true) as Record<string, unknown>);
      const block = blockOf.get(log.blockNumber)!;
      const event: MarketEvent = { name: parsed.name, args, blockNumber: log.blockNumber, timestamp: block.timestamp };
      const where = {
        blockNumber: log.blockNumber,
        blockHash: log.blockHash,
        logIndex: log.index,
        txHash: log.transactionHash,
        timestamp: block.timestamp,
      };
      return [{ id: `${log.transactionHash}:${log.index}`, event, where }];
    });
    // Most polls of a live chain find no market event: nothing to look up.
    if (decoded.length === 0) return 0;
    const jobEventsIn = decoded.filter((d) => JOB_EVENTS.includes(d.event.name));
    const stakeEventsIn = decoded.filter((d) => STAKE_EVENTS.includes(d.event.name));
    const jobIdOf = (e: MarketEvent) => (e.args.jobId as bigint).toString();

    // What is already stored: events (a restart, an overlap or a duplicate delivery), jobs and provers.
    const stored = new Set([
      ...(
        await tx.jobEvent.findMany({ where: { id: { in: jobEventsIn.map((d) => d.id) } }, select: { id: true } })
      ).map((r) => r.id),
      ...(
        await tx.stakeEvent.findMany({ where: { id: { in: stakeEventsIn.map((d) => d.id) } }, select: { id: true } })
      ).map((r) => r.id),
    ]);
    const jobIds = [...new Set(jobEventsIn.map((d) => jobIdOf(d.event)))];
    const jobs = new Map<string, JobState>(
      (await tx.job.findMany({ where: { id: { in: jobIds } } })).map((r) => [r.id, jobState(r)]),
    );
    const jobsBefore = new Set(jobs.keys());
    const addresses = [...new Set(decoded.map((d) => proverOf(d.event)).filter((a): a is string => a !== null))];
    const provers = new Map(
      (await tx.prover.findMany({ where: { address: { in: addresses } } })).map((r) => [r.address, proverState(r)]),
    );
    const proversTouched = new Set<string>();

    const jobEventRows = [];
    const stakeEventRows = [];
    let circuitsWritten = 0;
    for (const { id, event, where } of decoded) {
      if (stored.has(id)) continue;
      const prover = proverOf(event);
      let before: JobState | null = null;
      if (event.name === "CircuitRegistered") {
        const a = event.args as Record<string, any>;
        const data = {
          name: a.name,
          verifier: a.verifier,
          system: PROOF_SYSTEMS[Number(a.system)],
          nPublicOutputs: Number(a.nPublicOutputs),
          nPublicInputs: Number(a.nPublicInputs),
          batchVerifier: a.batchVerifier === "0x0000000000000000000000000000000000000000" ? null : a.batchVerifier,
          registrant: a.registrant,
          manifestHash: a.manifestHash,
          artifactsURI: a.artifactsURI,
          registeredAtBlock: event.blockNumber,
        };
        await tx.circuit.upsert({
          where: { id: Number(a.circuitId) },
          create: { id: Number(a.circuitId), ...data },
          update: data,
        });
        changed.circuits = true;
        circuitsWritten++;
        continue;
      } else if (STAKE_EVENTS.includes(event.name)) {
        stakeEventRows.push({ id, prover: prover!, kind: event.name, data: encodeArgs(event.args), ...where });
      } else if (JOB_EVENTS.includes(event.name)) {
        const jobId = jobIdOf(event);
        before = jobs.get(jobId) ?? null;
        const after = foldJob(before, event);
        if (after === null) continue; // a job posted before the indexer's start block
        jobs.set(jobId, after);
        jobEventRows.push({
          id,
          jobId,
          kind: event.name.slice(3),
          prover,
          attempt: Number(after.attempt),
          data: encodeArgs(event.args),
          ...where,
        });
      } else continue;
      stored.add(id);
      if (prover !== null) {
        provers.set(prover, foldProver(provers.get(prover) ?? emptyProver(prover), event, before));
        proversTouched.add(prover);
        changed.provers = true;
      }
    }

    // Each job the range changed, as it stands after the range: written once, and reported as changed.
    const touched = [...new Set(jobEventRows.map((e) => e.jobId))].map((id) => jobRow(jobs.get(id)!));
    for (const row of touched) changed.job(row);
    const created = touched.filter((row) => !jobsBefore.has(row.id));
    if (created.length > 0) await tx.job.createMany({ data: created });
    for (const row of touched) if (jobsBefore.has(row.id)) await tx.job.update({ where: { id: row.id }, data: row });
    if (jobEventRows.length > 0) await tx.jobEvent.createMany({ data: jobEventRows });
    if (stakeEventRows.length > 0) await tx.stakeEvent.createMany({ data: stakeEventRows });
    for (const address of proversTouched) {
      const data = proverRow(provers.get(address)!);
      await tx.prover.upsert({ where: { address }, create: data, update: data });
    }
    return circuitsWritten + jobEventRows.length + stakeEventRows.length;
  }

  /** Rebuilds a job and the provers from the events that remain (after a rewind). */
  async function rebuild(tx: Tx, jobIds: Set<string>, provers: Set<string>): Promise<void> {
    const jobsAfter = new Map<string, JobState>();
    for (const id of jobIds) {
      const events = await tx.jobEvent.findMany({
        where: { jobId: id },
        orderBy: [{ blockNumber: "asc" }, { logIndex: "asc" }],
      });
      let state: JobState | null = null;
      for (const e of events)
        state = foldJob(state, {
          name: `Job${e.kind}`,
          args: decodeArgs(e.data),
          blockNumber: e.blockNumber,
          timestamp: e.timestamp,
        });
      if (state === null) {
        await tx.job.deleteMany({ where: { id } });
      } else {
        const data = jobRow(state);
        await tx.job.update({ where: { id }, data });
        jobsAfter.set(id, state);
      }
    }
    for (const address of provers) {
      const jobEvents = await tx.jobEvent.findMany({ where: { prover: address } });
      const stakeEvents = await tx.stakeEvent.findMany({ where: { prover: address } });
      const all = [
        ...jobEvents.map((e) => ({ ...e, name: `Job${e.kind}` })),
        ...stakeEvents.map((e) => ({ ...e, name: e.kind, jobId: null as string | null })),
      ].sort((x, y) => x.blockNumber - y.blockNumber || x.logIndex - y.logIndex);
      let state = emptyProver(address);
      for (const e of all) {
        // A job's bond never changes: the job as it stands now gives the bond a claim locked.
        let job: JobState | null = null;
        if (e.jobId !== null) {
          const row = jobsAfter.has(e.jobId) ? null : await tx.job.findUnique({ where: { id: e.jobId } });
          job = jobsAfter.get(e.jobId) ?? (row ? jobState(row) : null);
        }
        state = foldProver(
          state,
          { name: e.name, args: decodeArgs(e.data), blockNumber: e.blockNumber, timestamp: e.timestamp },
          job,
        );
      }
      const data = proverRow(state);
      await tx.prover.upsert({ where: { address }, create: data, update: data });
    }
  }

  /** Finds the newest kept block still on the chain and deletes everything above it. */
  async function rewind(): Promise<number> {
    const kept = await o.db.indexedBlock.findMany({ orderBy: { number: "desc" } });
    let fork: { number: number; hash: string } | undefined;
    for (const b of kept) {
      const onChain = await blockAt(b.number);
      if (onChain?.hash === b.hash) {
        fork = b;
        break;
      }
    }
    if (fork === undefined)
      throw new Error(`reorg deeper than the ${kept.length} blocks kept: re-index from the start block`);
    const forkBlock = fork;
    const touched = new Set<string>();
    await o.db.$transaction(async (tx) => {
      const above = { blockNumber: { gt: forkBlock.number } };
      const jobEvents = await tx.jobEvent.findMany({ where: above, select: { jobId: true, prover: true } });
      const stakeEvents = await tx.stakeEvent.findMany({ where: above, select: { prover: true } });
      await tx.jobEvent.deleteMany({ where: above });
      await tx.stakeEvent.deleteMany({ where: above });
      await tx.circuit.deleteMany({ where: { registeredAtBlock: { gt: forkBlock.number } } });
      const provers = new Set(
        [...jobEvents.map((e) => e.prover), ...stakeEvents.map((e) => e.prover)].filter((p): p is string => p !== null),
      );
      for (const e of jobEvents) touched.add(e.jobId);
      await rebuild(tx, touched, provers);
      await tx.indexedBlock.deleteMany({ where: { number: { gt: forkBlock.number } } });
      await tx.indexerCheckpoint.update({
        where: { id: 1 },
        data: { lastBlock: forkBlock.number, lastHash: forkBlock.hash },
      });
    });
    if (touched.size > 0) o.onJobsChanged?.([...touched]);
    return forkBlock.number;
  }

  /** Indexes the next range (or rewinds a reorg). */
  async function syncOnce(): Promise<SyncResult | null> {
    // Uncached: ethers' getBlockNumber() may answer from a cache up to a polling interval old.
    const head = Number(await o.provider.send("eth_blockNumber", []));
    const safe = head - o.confirmations;
    const checkpoint = await o.db.indexerCheckpoint.findUnique({ where: { id: 1 } });
    if (checkpoint !== null) {
      const onChain = await blockAt(checkpoint.lastBlock);
      if (onChain?.hash !== checkpoint.lastHash) {
        const rewoundTo = await rewind();
        return { from: rewoundTo, to: rewoundTo, events: 0, rewoundTo, changes: null };
      }
    }
    const from = checkpoint === null ? o.startBlock : checkpoint.lastBlock + 1;
    const to = Math.min(safe, from + o.rangeSize - 1);
    if (from > to) return null;
    const logs = await o.provider.getLogs({ address: o.marketAddress, fromBlock: from, toBlock: to });
    const byNumber = await blocks([...logs.map((l) => l.blockNumber), to]);
    const last = byNumber.get(to)!;
    const { chainId } = await o.provider.getNetwork();
    let written = 0;
    const changed = changeRecorder();
    await o.db.$transaction(async (tx) => {
      written = await writeRange(tx, logs, byNumber, changed);
      for (const b of byNumber.values()) {
        const data = { hash: b.hash, parentHash: b.parentHash, timestamp: b.timestamp };
        await tx.indexedBlock.upsert({
          where: { number: b.number },
          create: { number: b.number, ...data },
          update: data,
        });
      }
      await tx.indexedBlock.deleteMany({ where: { number: { lt: to - keep } } });
      const cp = { chainId: Number(chainId), market: o.marketAddress, lastBlock: to, lastHash: last.hash };
      await tx.indexerCheckpoint.upsert({ where: { id: 1 }, create: { id: 1, ...cp }, update: cp });
    });
    const jobIds = changed.jobIds();
    if (jobIds.length > 0) o.onJobsChanged?.(jobIds);
    return { from, to, events: written, changes: changed.changes() };
  }

  /** Syncs until caught up with the confirmed head. */
  async function catchUp(): Promise<SyncResult[]> {
    const results: SyncResult[] = [];
    for (;;) {
      const r = await syncOnce();
      if (r === null) return results;
      results.push(r);
    }
  }

  return { syncOnce, catchUp };
}
export type Indexer = ReturnType<typeof createIndexer>;
