/**
 * The worker's local state in SQLite, written before each step it records is acted on, so that `kill -9` loses
 * nothing: the job book, the job events it was folded from and the recent block hashes (so that a reorg can be
 * undone) with its cursor (discovery resumes where it stopped), the last claim decision on each job (for
 * `status --job N`), and every claim with its
 * inputs (a restart re-proves and submits what it holds before the deadline, and never claims a job twice) and the
 * price it locked (and, once proved, the seconds its proof took: what `status` and the earnings metrics show after a
 * restart); the verdicts on circuits whose verifier refused a valid proof (a restart does not serve them again while
 * their verifiers' code is what it was); and the reservation price the running worker last used for each circuit,
 * with the chain's clock as it last read it (for `status`, which reads no chain for them).
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { BlockRef, Cursor } from "../../common/chain/logReader.ts";
import type { MarketEvent } from "../../common/market/fold.ts";
import type { JobView } from "../../common/market/jobBook.ts";
import type { Logger } from "../../common/log.ts";
import type { StampOrder } from "./pipeline/crossing.ts";
import type { Reservation } from "./pricing.ts";

export type ClaimStatus = "claiming" | "claimed" | "submitting" | "proved" | "lost" | "abandoned" | "failed";

export interface ClaimRecord {
  jobId: bigint;
  status: ClaimStatus;
  view: JobView;
  /** The inputs document (JSON text) that preflight fetched and checked. */
  inputs: string;
  txHash: string | null;
  error: string | null;
  /** The price the claim locked (its JobClaimed event), token base units; null until the claim is confirmed. */
  price?: bigint | null;
  /** Seconds the accepted proof took to compute (proving only); null until proved. */
  provingSeconds?: number | null;
  /** When the record last changed (ms since the epoch); set by the store. */
  updatedAt?: number;
}

/** How the running worker times its claims: what it knows of the chain's block timestamps, on what chain. */
export interface StoredStampOrder {
  order: StampOrder;
  devChain: boolean;
}

/** A circuit's reservation price as the running worker last computed it. */
export type StoredReservation = Reservation & { circuitId: number; at: number };

/** The code a circuit's verifiers had on chain: what a verdict on them holds for. */
export interface VerifierCode {
  verifier: string;
  /** keccak256 of the verifier's runtime code (eth_getCode). */
  verifierCodeHash: string;
  /** null when the circuit has no batch verifier. */
  batchVerifier: string | null;
  batchVerifierCodeHash: string | null;
}

/** The market refused a valid proof of this circuit (or a claim of it) over its verifier: not served again while
 *  the verifiers' code is `code`, until the operator clears it (`proofmarket-worker trust --clear ID`). */
export interface CircuitVerdict {
  circuitId: number;
  code: VerifierCode;
  reason: string;
  /** The job whose claim or submission was refused, and the refused transaction when it was mined. */
  jobId: bigint | null;
  txHash: string | null;
  /** When it was recorded (ms since the epoch). */
  at: number;
}

const encode = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? `${x}n` : x));
const decode = <T>(s: string): T =>
  JSON.parse(s, (_k, x) => (typeof x === "string" && /^-?\d+n$/.test(x) ? BigInt(x.slice(0, -1)) : x));

/** A job event as the store keeps it: enough to fold the job again after a reorg. */
export type StoredEvent = MarketEvent & { logIndex: number };

/** The last claim decision on a job (pipeline/decision.ts). */
export interface StoredDecision {
  code: string;
  reason: string;
  /** When it was first made (ms since the epoch); repeated decisions with the same code keep it. */
  at: number;
}

export interface WorkerStore {
  /** Where discovery stands; null before the first range. */
  cursor(): Cursor | null;
  /** One range read: its job events, the jobs they changed, the blocks checked, and the new cursor, together. */
  saveRange(
    cursor: Cursor,
    events: readonly StoredEvent[],
    touched: readonly JobView[],
    blocks: readonly BlockRef[],
  ): void;
  /** The recent blocks kept for reorg detection, newest first. */
  keptBlocks(): BlockRef[];
  /**
   * Undoes everything above `fork`: its events and blocks go; each job they touched is folded again from the events
   * that remain (`refold`; null: the job's posting is gone, and the job with it). Returns the jobs changed and gone.
   */
  rewind(
    fork: BlockRef,
    refold: (jobId: bigint, events: StoredEvent[]) => JobView | null,
  ): { changed: JobView[]; removed: bigint[] };
  loadBook(): JobView[];
  /** Forgets the job book, its events, blocks and cursor (claims stay): discovery reads from the start again. */
  resetChainState(): void;
  putDecision(jobId: bigint, decision: { code: string; reason: string }): void;
  decision(jobId: bigint): StoredDecision | null;
  claims(statuses?: ClaimStatus[]): ClaimRecord[];
  claim(jobId: bigint): ClaimRecord | null;
  putClaim(record: ClaimRecord): void;
  setClaimStatus(
    jobId: bigint,
    status: ClaimStatus,
    fields?: { txHash?: string | null; error?: string | null; price?: bigint | null; provingSeconds?: number | null },
  ): void;
  recordSkip(jobId: bigint, reason: string): void;
  skipped(jobId: bigint): string | null;
  /** Measured seconds per proof (witness + proof) of a circuit with a backend, from `prover-worker bench`. */
  putBench(circuitId: number, backend: string, seconds: number): void;
  bench(circuitId: number, backend: string): number | null;
  /** Records a verdict on a circuit, replacing any earlier one. */
  putVerdict(verdict: CircuitVerdict): void;
  verdict(circuitId: number): CircuitVerdict | null;
  verdicts(): CircuitVerdict[];
  /** Forgets a circuit's verdict; whether there was one. */
  clearVerdict(circuitId: number): boolean;
  /** The reservation price the worker uses for a circuit now, replacing the last one. */
  putReservation(reservation: StoredReservation): void;
  reservations(): StoredReservation[];
  /** The chain's clock minus the local one (ms), as the worker last estimated it; null if it never did. */
  putChainOffset(offsetMs: number): void;
  chainOffset(): number | null;
  /** What the worker last knew of the chain's block timestamps (pipeline/crossing.ts), for `status --job`. */
  putStampOrder(stamps: StoredStampOrder): void;
  stampOrder(): StoredStampOrder | null;
  close(): void;
}

/**
 * Claims gained their locked price and proving seconds with the reverse Dutch auction. A store from before has
 * neither column: they are added, and each older claim's price is its job's fixed fee (what it paid), read from the
 * terms the record kept.
 */
function addClaimPrices(db: Database.Database): void {
  const columns = (db.prepare("PRAGMA table_info(claims)").all() as { name: string }[]).map((c) => c.name);
  if (columns.includes("price")) return;
  db.transaction(() => {
    db.exec("ALTER TABLE claims ADD COLUMN price TEXT");
    db.exec("ALTER TABLE claims ADD COLUMN proving_seconds REAL");
    const setPrice = db.prepare("UPDATE claims SET price = ? WHERE job_id = ?");
    for (const row of db.prepare("SELECT job_id, view FROM claims").all() as { job_id: string; view: string }[]) {
      const fee = decode<{ terms: { fee?: unknown } }>(row.view).terms.fee;
      if (typeof fee === "bigint") setPrice.run(fee.toString(), row.job_id);
    }
  })();
}

/** Forgets the job book, its events, blocks and cursor (claims stay): discovery reads from the start again. */
function clearChainState(db: Database.Database): void {
  for (const table of ["jobs", "job_events", "blocks"]) db.prepare(`DELETE FROM ${table}`).run();
  db.prepare("DELETE FROM meta WHERE key IN ('checkpoint', 'checkpoint_hash')").run();
}

/**
 * The shape of the job views, job events and claim records the store keeps, in its meta as `book_format`: 1 (no
 * entry) the market's fixed fees (`fee`), 2 its price ramps (minFee, maxFee, rampStart, rampDuration). Raised
 * whenever the market's ABI changes what the book holds.
 */
export const BOOK_FORMAT = 2;

/** An old claim record's view: the job with its fixed fee (format 1), as JSON decoded it. */
type FixedFeeView = Omit<JobView, "terms"> & {
  fee?: bigint;
  terms: Omit<JobView["terms"], "minFee"> & { fee?: bigint };
};

/** A fixed fee is the ramp that starts and stays at it. */
const asRamp = (fee: bigint) => ({ minFee: fee, maxFee: fee, rampStart: 0n, rampDuration: 0n });

/**
 * A store from before the price ramps keeps the job book and its events in the fixed fee's shape, which nothing
 * reads any more: its chain state is dropped and the book read again from the start block (the precedent: a store
 * from before block hashes were kept). Its claims cannot be sent under the market's new ABI (their terms hash to
 * another job): one still held is marked lost, with an error that says so; each keeps its view rewritten as the ramp
 * its fee was (status and earnings read it), and its updated_at (a rewrite is not news reconciliation rechecks).
 */
function upgradeBookFormat(db: Database.Database, logger?: Logger): void {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'book_format'").get() as { value: string } | undefined;
  const format = row === undefined ? 1 : Number(row.value);
  if (format >= BOOK_FORMAT) return;
  const lost: string[] = [];
  const state = db.prepare("SELECT 1 FROM meta WHERE key = 'checkpoint' UNION ALL SELECT 1 FROM jobs LIMIT 1").get();
  db.transaction(() => {
    if (state !== undefined) clearChainState(db);
    const rewrite = db.prepare("UPDATE claims SET view = ?, status = ?, error = ? WHERE job_id = ?");
    const rows = db.prepare("SELECT job_id, status, view, error FROM claims").all() as {
      job_id: string;
      status: ClaimStatus;
      view: string;
      error: string | null;
    }[];
    for (const claim of rows) {
      const view = decode<FixedFeeView>(claim.view);
      if (typeof view.terms.fee !== "bigint") continue;
      const ramp = asRamp(view.terms.fee);
      // (An undefined field is left out of the JSON.)
      const upgraded = {
        ...view,
        fee: undefined,
        ...ramp,
        price: null,
        terms: { ...view.terms, fee: undefined, ...ramp },
      };
      const held = claim.status === "claiming" || claim.status === "claimed" || claim.status === "submitting";
      if (held) lost.push(claim.job_id);
      rewrite.run(
        encode(upgraded),
        held ? "lost" : claim.status,
        held
          ? `claimed under the market's fixed-fee ABI, which this worker no longer speaks (was ${claim.status}): ` +
              "settle it with the previous release of the worker before its deadline, or its bond is slashed"
          : claim.error,
        claim.job_id,
      );
    }
    db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('book_format', ?)").run(String(BOOK_FORMAT));
  })();
  if (state !== undefined)
    logger?.warn(
      "the data folder's job book predates the market's price ramps: reading the market's events again from the start block",
      { bookFormat: format, now: BOOK_FORMAT },
    );
  if (lost.length > 0)
    logger?.error(
      "claims held under the market's fixed-fee ABI cannot be proved by this worker: marked lost (settle them with " +
        "the previous release before their deadlines, or their bonds are slashed)",
      { jobIds: lost },
    );
}

/** Blocks below the cursor whose hashes are kept: a reorg deeper than this cannot be undone (the worker says so). */
const KEEP_BLOCKS = 256;

/** @param logger where a store's upgrade says what it dropped (the worker's; the commands that only read pass none) */
export function openStore(dataDir: string, logger?: Logger): WorkerStore {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(path.join(dataDir, "worker.sqlite"));
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec(`
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS jobs (job_id TEXT PRIMARY KEY, view TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS claims (
      job_id TEXT PRIMARY KEY, status TEXT NOT NULL, view TEXT NOT NULL, inputs TEXT NOT NULL,
      tx_hash TEXT, error TEXT, updated_at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS skipped (job_id TEXT PRIMARY KEY, reason TEXT NOT NULL, at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS bench (
      circuit_id INTEGER NOT NULL, backend TEXT NOT NULL, seconds REAL NOT NULL, at INTEGER NOT NULL,
      PRIMARY KEY (circuit_id, backend));
    CREATE TABLE IF NOT EXISTS verdicts (circuit_id INTEGER PRIMARY KEY, verdict TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS job_events (
      block INTEGER NOT NULL, log_index INTEGER NOT NULL, job_id TEXT NOT NULL, event TEXT NOT NULL,
      PRIMARY KEY (block, log_index));
    CREATE INDEX IF NOT EXISTS job_events_by_job ON job_events (job_id, block, log_index);
    CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS decisions (
      job_id TEXT PRIMARY KEY, code TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS reservations (circuit_id INTEGER PRIMARY KEY, reservation TEXT NOT NULL);
  `);
  addClaimPrices(db);
  upgradeBookFormat(db, logger);
  const putJob = db.prepare(
    "INSERT INTO jobs (job_id, view) VALUES (?, ?) ON CONFLICT(job_id) DO UPDATE SET view = excluded.view",
  );
  const putMeta = db.prepare(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  );
  const putEvent = db.prepare(
    "INSERT OR REPLACE INTO job_events (block, log_index, job_id, event) VALUES (?, ?, ?, ?)",
  );
  const putBlock = db.prepare("INSERT OR REPLACE INTO blocks (number, hash) VALUES (?, ?)");
  const eventsOf = db.prepare("SELECT event FROM job_events WHERE job_id = ? ORDER BY block, log_index");
  const toRecord = (row: any): ClaimRecord => ({
    jobId: BigInt(row.job_id),
    status: row.status,
    view: decode<JobView>(row.view),
    inputs: row.inputs,
    txHash: row.tx_hash,
    error: row.error,
    price: row.price === null ? null : BigInt(row.price),
    provingSeconds: row.proving_seconds,
    updatedAt: row.updated_at,
  });

  return {
    cursor() {
      const meta = (key: string) =>
        (db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined)?.value;
      const number = meta("checkpoint");
      // A store written before block hashes were kept has a checkpoint without one: continuity starts after it.
      return number === undefined ? null : { number: Number(number), hash: meta("checkpoint_hash") ?? null };
    },
    // The events, the touched jobs, the blocks and the new cursor land together or not at all.
    saveRange: db.transaction(
      (cursor: Cursor, events: readonly StoredEvent[], touched: readonly JobView[], blocks: readonly BlockRef[]) => {
        for (const e of events) putEvent.run(e.blockNumber, e.logIndex, (e.args.jobId as bigint).toString(), encode(e));
        for (const view of touched) putJob.run(view.jobId.toString(), encode(view));
        for (const b of blocks) putBlock.run(b.number, b.hash);
        if (cursor.hash !== null) putBlock.run(cursor.number, cursor.hash);
        db.prepare("DELETE FROM blocks WHERE number < ?").run(cursor.number - KEEP_BLOCKS);
        putMeta.run("checkpoint", String(cursor.number));
        if (cursor.hash !== null) putMeta.run("checkpoint_hash", cursor.hash);
      },
    ),
    keptBlocks() {
      return db.prepare("SELECT number, hash FROM blocks ORDER BY number DESC").all() as BlockRef[];
    },
    rewind: db.transaction((fork: BlockRef, refold: (jobId: bigint, events: StoredEvent[]) => JobView | null) => {
      const touched = (
        db.prepare("SELECT DISTINCT job_id FROM job_events WHERE block > ?").all(fork.number) as { job_id: string }[]
      ).map((r) => r.job_id);
      db.prepare("DELETE FROM job_events WHERE block > ?").run(fork.number);
      db.prepare("DELETE FROM blocks WHERE number > ?").run(fork.number);
      const changed: JobView[] = [];
      const removed: bigint[] = [];
      for (const id of touched) {
        const events = (eventsOf.all(id) as { event: string }[]).map((r) => decode<StoredEvent>(r.event));
        const view = refold(BigInt(id), events);
        if (view === null) {
          // A job posted again under this id later is another job: nothing said about this one applies to it.
          for (const table of ["jobs", "skipped", "decisions"])
            db.prepare(`DELETE FROM ${table} WHERE job_id = ?`).run(id);
          removed.push(BigInt(id));
        } else {
          putJob.run(id, encode(view));
          changed.push(view);
        }
      }
      putMeta.run("checkpoint", String(fork.number));
      putMeta.run("checkpoint_hash", fork.hash);
      return { changed, removed };
    }),
    resetChainState: db.transaction(() => clearChainState(db)),
    putDecision(jobId, { code, reason }) {
      // Written when the decision changes; a reason whose figures move (seconds left) keeps the first wording.
      const current = this.decision(jobId);
      if (current?.code === code) return;
      db.prepare("INSERT OR REPLACE INTO decisions (job_id, code, reason, at) VALUES (?, ?, ?, ?)").run(
        jobId.toString(),
        code,
        reason,
        Date.now(),
      );
    },
    decision(jobId) {
      return (
        (db.prepare("SELECT code, reason, at FROM decisions WHERE job_id = ?").get(jobId.toString()) as
          StoredDecision | undefined) ?? null
      );
    },
    loadBook() {
      return (db.prepare("SELECT view FROM jobs").all() as { view: string }[]).map((r) => decode<JobView>(r.view));
    },
    claims(statuses) {
      const rows = db.prepare("SELECT * FROM claims").all() as any[];
      return rows.map(toRecord).filter((r) => statuses === undefined || statuses.includes(r.status));
    },
    claim(jobId) {
      const row = db.prepare("SELECT * FROM claims WHERE job_id = ?").get(jobId.toString());
      return row ? toRecord(row) : null;
    },
    putClaim(r) {
      db.prepare(
        `INSERT INTO claims (job_id, status, view, inputs, tx_hash, error, price, proving_seconds, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(job_id) DO UPDATE SET status = excluded.status, view = excluded.view, inputs = excluded.inputs,
           tx_hash = excluded.tx_hash, error = excluded.error, price = excluded.price,
           proving_seconds = excluded.proving_seconds, updated_at = excluded.updated_at`,
      ).run(
        r.jobId.toString(),
        r.status,
        encode(r.view),
        r.inputs,
        r.txHash,
        r.error,
        r.price == null ? null : r.price.toString(),
        r.provingSeconds ?? null,
        Date.now(),
      );
    },
    setClaimStatus(jobId, status, fields = {}) {
      const current = this.claim(jobId);
      if (current === null) throw new Error(`no claim recorded for job ${jobId}`);
      this.putClaim({ ...current, status, ...fields });
    },
    recordSkip(jobId, reason) {
      db.prepare("INSERT OR REPLACE INTO skipped (job_id, reason, at) VALUES (?, ?, ?)").run(
        jobId.toString(),
        reason,
        Date.now(),
      );
    },
    skipped(jobId) {
      const row = db.prepare("SELECT reason FROM skipped WHERE job_id = ?").get(jobId.toString()) as
        { reason: string } | undefined;
      return row?.reason ?? null;
    },
    putBench(circuitId, backend, seconds) {
      db.prepare("INSERT OR REPLACE INTO bench (circuit_id, backend, seconds, at) VALUES (?, ?, ?, ?)").run(
        circuitId,
        backend,
        seconds,
        Date.now(),
      );
    },
    bench(circuitId, backend) {
      const row = db
        .prepare("SELECT seconds FROM bench WHERE circuit_id = ? AND backend = ?")
        .get(circuitId, backend) as { seconds: number } | undefined;
      return row?.seconds ?? null;
    },
    putVerdict(verdict) {
      db.prepare("INSERT OR REPLACE INTO verdicts (circuit_id, verdict) VALUES (?, ?)").run(
        verdict.circuitId,
        encode(verdict),
      );
    },
    verdict(circuitId) {
      const row = db.prepare("SELECT verdict FROM verdicts WHERE circuit_id = ?").get(circuitId) as
        { verdict: string } | undefined;
      return row ? decode<CircuitVerdict>(row.verdict) : null;
    },
    verdicts() {
      const rows = db.prepare("SELECT verdict FROM verdicts ORDER BY circuit_id").all() as { verdict: string }[];
      return rows.map((r) => decode<CircuitVerdict>(r.verdict));
    },
    clearVerdict(circuitId) {
      return db.prepare("DELETE FROM verdicts WHERE circuit_id = ?").run(circuitId).changes > 0;
    },
    putReservation(reservation) {
      db.prepare("INSERT OR REPLACE INTO reservations (circuit_id, reservation) VALUES (?, ?)").run(
        reservation.circuitId,
        encode(reservation),
      );
    },
    reservations() {
      const rows = db.prepare("SELECT reservation FROM reservations ORDER BY circuit_id").all() as {
        reservation: string;
      }[];
      return rows.map((r) => decode<StoredReservation>(r.reservation));
    },
    putChainOffset(offsetMs) {
      putMeta.run("chain_offset_ms", String(Math.round(offsetMs)));
    },
    chainOffset() {
      const row = db.prepare("SELECT value FROM meta WHERE key = 'chain_offset_ms'").get() as
        { value: string } | undefined;
      return row === undefined ? null : Number(row.value);
    },
    putStampOrder(stamps) {
      putMeta.run("stamp_order", JSON.stringify(stamps));
    },
    stampOrder() {
      const row = db.prepare("SELECT value FROM meta WHERE key = 'stamp_order'").get() as { value: string } | undefined;
      return row === undefined ? null : (JSON.parse(row.value) as StoredStampOrder);
    },
    close() {
      db.close();
    },
  };
}
