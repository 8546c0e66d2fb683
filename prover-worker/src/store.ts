/**
 * The worker's local state in SQLite, written before each step it records is acted on, so that `kill -9` loses
 * nothing: the job book and its event checkpoint (discovery resumes where it stopped), and every claim with its
 * inputs (a restart re-proves and submits what it holds before the deadline, and never claims a job twice); and the
 * verdicts on circuits whose verifier refused a valid proof (a restart does not serve them again while their
 * verifiers' code is what it was).
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { JobView } from "../../common/market/jobBook.ts";

export type ClaimStatus = "claiming" | "claimed" | "submitting" | "proved" | "lost" | "abandoned" | "failed";

export interface ClaimRecord {
  jobId: bigint;
  status: ClaimStatus;
  view: JobView;
  /** The inputs document (JSON text) that preflight fetched and checked. */
  inputs: string;
  txHash: string | null;
  error: string | null;
}

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

export interface WorkerStore {
  checkpoint(): number | null;
  saveBook(checkpoint: number, touched: readonly JobView[]): void;
  loadBook(): JobView[];
  claims(statuses?: ClaimStatus[]): ClaimRecord[];
  claim(jobId: bigint): ClaimRecord | null;
  putClaim(record: ClaimRecord): void;
  setClaimStatus(jobId: bigint, status: ClaimStatus, fields?: { txHash?: string | null; error?: string | null }): void;
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
  close(): void;
}

export function openStore(dataDir: string): WorkerStore {
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
  `);
  const putJob = db.prepare(
    "INSERT INTO jobs (job_id, view) VALUES (?, ?) ON CONFLICT(job_id) DO UPDATE SET view = excluded.view",
  );
  const putMeta = db.prepare(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
  );
  const toRecord = (row: any): ClaimRecord => ({
    jobId: BigInt(row.job_id),
    status: row.status,
    view: decode<JobView>(row.view),
    inputs: row.inputs,
    txHash: row.tx_hash,
    error: row.error,
  });

  return {
    checkpoint() {
      const row = db.prepare("SELECT value FROM meta WHERE key = 'checkpoint'").get() as { value: string } | undefined;
      return row ? Number(row.value) : null;
    },
    // The touched jobs and the new checkpoint land together or not at all.
    saveBook: db.transaction((checkpoint: number, touched: readonly JobView[]) => {
      for (const view of touched) putJob.run(view.jobId.toString(), encode(view));
      putMeta.run("checkpoint", String(checkpoint));
    }),
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
        `INSERT INTO claims (job_id, status, view, inputs, tx_hash, error, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(job_id) DO UPDATE SET status = excluded.status, view = excluded.view, inputs = excluded.inputs,
           tx_hash = excluded.tx_hash, error = excluded.error, updated_at = excluded.updated_at`,
      ).run(r.jobId.toString(), r.status, encode(r.view), r.inputs, r.txHash, r.error, Date.now());
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
    close() {
      db.close();
    },
  };
}
