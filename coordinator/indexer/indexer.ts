/**
 * The chain indexer: reads the market's events through the one chain reader (common/chain/logReader.ts, with the
 * market's ABI), up to `confirmations` blocks behind the head, from the stored checkpoint, and writes them with the
 * state they derive (jobs, provers, circuits) in one database transaction per range, with the blocks the reader
 * checked and the new checkpoint (with the chain's head and its timestamp, the time the API prices open jobs at).
 * Writing is idempotent (an event id already stored is skipped, so a restart, an
 * overlap or a duplicate delivery changes nothing). The reader checks that each range continues the checkpoint's
 * block; when the chain forked, it names the fork point (the newest block kept here that is still on the chain) and
 * the indexer rewinds to it: events above it are deleted and the jobs and provers they touched are rebuilt from the
 * events that remain. A fork below every kept block is a ReorgTooDeepError (re-index from the start block).
 */
import { join, raw, sqltag } from "@prisma/client/runtime/client";
import { PROOF_SYSTEMS } from "../../common/circuits/manifest.ts";
import type { BlockHeader, BlockRef, ChainEvent, LogReaderOptions, RpcSender } from "../../common/chain/logReader.ts";
import { createMarketReader } from "../../common/market/marketReader.ts";
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
import {
  decodeArgs,
  encodeArgs,
  jobEventFields,
  jobEventId,
  jobRow,
  jobState,
  lowercaseAddresses,
  proverRow,
  proverState,
} from "./rows.ts";

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

/** Rows per INSERT: within SQLite's 32,766 bound parameters (PostgreSQL's are 65,535), and short to parse. */
const ROWS_PER_STATEMENT = (columns: number) => Math.max(1, Math.min(1_000, Math.floor(30_000 / columns)));

/**
 * Writes rows with one multi-row INSERT per thousand (an upsert by `key` when given: `ON CONFLICT DO UPDATE`, as
 * SQLite and PostgreSQL both say it). Prisma's createMany and update spend some 250 µs on each row in its query
 * compiler, more than a backfill's whole budget for an event. The rows are the indexer's own (rows.ts): their keys
 * are the tables' columns.
 */
async function writeRows(tx: Tx, table: string, rows: Record<string, unknown>[], key?: string): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]);
  const names = raw(columns.map((c) => `"${c}"`).join(", "));
  const conflict = raw(
    key === undefined
      ? ""
      : ` ON CONFLICT ("${key}") DO UPDATE SET ${columns
          .filter((c) => c !== key)
          .map((c) => `"${c}" = excluded."${c}"`)
          .join(", ")}`,
  );
  const step = ROWS_PER_STATEMENT(columns.length);
  for (let i = 0; i < rows.length; i += step) {
    const values = rows.slice(i, i + step).map((r) => sqltag`(${join(columns.map((c) => r[c] ?? null))})`);
    await tx.$executeRaw`INSERT INTO ${raw(`"${table}"`)} (${names}) VALUES ${join(values)}${conflict}`;
  }
}

export interface IndexerOptions {
  db: Db;
  /** The chain's JSON-RPC endpoint (an ethers JsonRpcProvider, or anything that sends JSON-RPC). */
  provider: RpcSender;
  marketAddress: string;
  /** The market's deployment block: backfill starts here. */
  startBlock: number;
  confirmations: number;
  /**
   * Blocks per eth_getLogs request and per database transaction, at most: the reader narrows it when the provider
   * refuses a range and widens it again after answers, up to this.
   */
  rangeSize: number;
  /** How many recent blocks to keep for reorg detection (at least `confirmations`). */
  keepBlocks?: number;
  /** Called with the ids of the jobs a range (or a rewind) changed, once its transaction has committed. */
  onJobsChanged?: (jobIds: string[]) => void;
  /** Called on each request the reader retries (rate limit, dropped connection, timeout) or narrows (for metrics). */
  onRetry?: LogReaderOptions["onRetry"];
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
  const keep = Math.max(o.keepBlocks ?? 64, o.confirmations + 1);
  const reader = createMarketReader({
    provider: o.provider,
    address: o.marketAddress,
    confirmations: o.confirmations,
    initialRange: o.rangeSize,
    maxRange: o.rangeSize,
    onRetry: o.onRetry,
  });
  let chainId: number | undefined;
  /** A range's transaction may take longer than Prisma's default 5 s (thousands of events on a busy database). */
  const TRANSACTION = { maxWait: 10_000, timeout: 120_000 };

  /**
   * Writes one range's events: those not stored yet, and the jobs, provers and circuits they change (a circuit's
   * registration is an upsert, written again on a re-index). The range's jobs and provers are read once, folded in
   * memory in chain order, and written once each, and its events are inserted together: a handful of statements per
   * range instead of several per event. Returns how many events were written.
   */
  async function writeRange(tx: Tx, events: ChainEvent[], changed: ChangeRecorder): Promise<number> {
    const decoded = events.map((e) => {
      const args = lowercaseAddresses(e.args);
      const event: MarketEvent = { name: e.name, args, blockNumber: e.blockNumber, timestamp: e.timestamp };
      const where = {
        blockNumber: e.blockNumber,
        blockHash: e.blockHash,
        logIndex: e.logIndex,
        txHash: e.txHash,
        timestamp: e.timestamp,
      };
      // Job events by their place in the chain (rows.ts); staking events, which no API lists, by transaction and log.
      const id = JOB_EVENTS.includes(e.name) ? jobEventId(e.blockNumber, e.logIndex) : `${e.txHash}:${e.logIndex}`;
      return { id, event, where };
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
        // A proof's event names the price paid, not what the requester gets back: the rest of the job's escrow.
        const args =
          event.name === "JobProved" ? { ...event.args, refund: after.maxFee - (after.price ?? 0n) } : event.args;
        jobEventRows.push({
          id,
          jobId,
          circuitId: Number(after.circuitId),
          kind: event.name.slice(3),
          prover,
          attempt: Number(after.attempt),
          data: encodeArgs(args),
          ...jobEventFields(args),
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
    await writeRows(tx, "Job", touched, "id");
    await writeRows(tx, "JobEvent", jobEventRows);
    await writeRows(tx, "StakeEvent", stakeEventRows);
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

  /** Deletes everything above the fork point (the newest kept block still on the chain) and rebuilds what it touched. */
  async function rewind(forkBlock: BlockRef): Promise<number> {
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
    }, TRANSACTION);
    if (touched.size > 0) o.onJobsChanged?.([...touched]);
    return forkBlock.number;
  }

  /**
   * The chain's head now (its number and timestamp), never older than `last`, the newest block just read: kept with
   * the checkpoint as the time at which the API prices open jobs. Above the confirmation depth nothing is indexed,
   * but the clock there is what a claim would meet. One request when the range reached the head, two otherwise.
   */
  async function headSeen(last: BlockHeader): Promise<BlockHeader> {
    const number = await reader.head();
    const header = number > last.number ? await reader.header(number) : null;
    return header !== null && header.number > last.number ? header : last;
  }

  /** The blocks kept for reorg detection, newest first (read only when the reader suspects a fork). */
  const kept = (): Promise<BlockRef[]> =>
    o.db.indexedBlock.findMany({ orderBy: { number: "desc" }, select: { number: true, hash: true } });

  /**
   * Indexes the next range (or rewinds a reorg). Throws the reader's ReorgTooDeepError (a FatalError) when the chain
   * forked below every kept block, and its ChainReadError (retryable) when the provider keeps failing.
   */
  async function syncOnce(): Promise<SyncResult | null> {
    const checkpoint = await o.db.indexerCheckpoint.findUnique({ where: { id: 1 } });
    const cursor =
      checkpoint === null
        ? { number: o.startBlock - 1, hash: null }
        : { number: checkpoint.lastBlock, hash: checkpoint.lastHash };
    const step = await reader.next(cursor, kept);
    if (step === null) return null;
    if (step.kind === "reorg") {
      const rewoundTo = await rewind(step.fork);
      return { from: rewoundTo, to: rewoundTo, events: 0, rewoundTo, changes: null };
    }
    const { from, to, events, blocks } = step;
    chainId ??= Number(await o.provider.send("eth_chainId", []));
    const head = await headSeen(blocks.at(-1)!);
    let written = 0;
    const changed = changeRecorder();
    await o.db.$transaction(async (tx) => {
      written = await writeRange(tx, events, changed);
      // The headers the reader checked (the range's ends and every block with an event), replacing any kept from an
      // earlier read of the same blocks (a restart without its checkpoint): two statements, whatever their number.
      await tx.indexedBlock.deleteMany({ where: { OR: [{ number: { lt: to - keep } }, { number: { gte: from } }] } });
      await writeRows(
        tx,
        "IndexedBlock",
        blocks
          .filter((b) => b.number >= to - keep)
          .map((b) => ({ number: b.number, hash: b.hash, parentHash: b.parentHash, timestamp: b.timestamp })),
      );
      const cp = {
        chainId: chainId!,
        market: o.marketAddress,
        lastBlock: to,
        lastHash: step.cursor.hash!,
        headBlock: head.number,
        headTimestamp: head.timestamp,
      };
      await tx.indexerCheckpoint.upsert({ where: { id: 1 }, create: { id: 1, ...cp }, update: cp });
    }, TRANSACTION);
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
