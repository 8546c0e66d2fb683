/**
 * Kept GraphQL answers. The database has one writer, the indexer, which commits a range of blocks at a time;
 * between commits every query's answer is fixed. An answer is kept (as the bytes sent) with what it read
 * (reads.ts), and each commit drops only the answers that read something it changed (`invalidate(change)`;
 * with no change given, after a reorg's rewind say, everything is dropped). A time-to-live bounds staleness
 * should anything else write. An answer that read the clock (reads.ts: Job.currentPrice) is never kept: it may
 * change with no commit at all.
 *
 * An answer computed while a commit landed may mix data from before and after it: it is kept only if none of
 * the commits since it began changed what it read. Identical queries that arrive while the first is being
 * answered wait for its answer instead of running again, so a burst after a commit costs one database read per
 * distinct query.
 *
 * Not every answer is worth keeping: one asked once (a random filter, a client's one-off) only costs memory and
 * garbage collection until a commit drops it. An answer is kept when its query was answered before, recently
 * (see `doorkeeper`), or when other requests waited for it; `keepFirstAnswers` keeps every current answer.
 */
import type { CommitChanges } from "../commitChanges.ts";
import type { ReadSet } from "./reads.ts";

/** An HTTP response as sent. */
export interface KeptResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

interface Entry {
  response: KeptResponse;
  reads: ReadSet;
  storedAt: number;
}

/** A miss being answered: `finish` keeps the answer (when it may be kept) and releases the waiters. */
export interface Ticket {
  finish(response: KeptResponse | null, reads?: ReadSet): void;
}

export interface ResponseCache {
  /** The kept answer for `key`, if any. */
  lookup(key: string): KeptResponse | undefined;
  /** The answer for `key` being computed now, if any; it settles to null when that answer is not kept. */
  pending(key: string): Promise<KeptResponse | null> | undefined;
  /** Starts answering `key`; the caller must `finish` the ticket whatever happens. */
  begin(key: string): Ticket;
  /** Drops the answers that read what `change` changed; every answer when no change is given (or null). */
  invalidate(change?: CommitChanges | null): void;
  stats(): { hits: number; misses: number; entries: number; dropped: number; invalidateMs: number };
}

/** Commits remembered for answers still being computed; an answer begun before the oldest is not kept. */
const HISTORY = 256;

/** FNV-1a over a key's UTF-16 code units: what the doorkeeper remembers of a key (a collision only admits early). */
function keyHash(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Records a key and says whether it was answered before, within the last `size` to `2 * size` keys recorded: a
 * query asked once (random filters, a client's one-off) is never kept, and so costs no memory and no garbage
 * collection when the next commit drops it (on the all-distinct bench, keeping every miss held ~2,800 answers and
 * made the pauses behind the slowest answers, issue #16). Two generations of hashes: the older is forgotten when the
 * newer fills; a key seen again is recorded in the newer, so a query asked steadily is never forgotten.
 */
function doorkeeper(size: number) {
  let recent = new Set<number>();
  let older = new Set<number>();
  return (key: string): boolean => {
    const h = keyHash(key);
    if (recent.has(h)) return true;
    const seen = older.has(h);
    if (recent.size >= size) [older, recent] = [recent, new Set()];
    recent.add(h);
    return seen;
  };
}

export function createResponseCache({
  maxEntries = 5_000,
  ttlMs = 60_000,
  keepFirstAnswers = false,
} = {}): ResponseCache {
  const seenBefore = doorkeeper(maxEntries);
  const entries = new Map<string, Entry>();
  /** Kept answers by the ids of the jobs they read, so a changed job finds its answers without a scan. */
  const byJob = new Map<string, Set<string>>();
  /** Kept answers that hold job windows, market totals, provers or circuits: checked one by one on a commit. */
  const broad = new Set<string>();
  /** Answers being computed, with a count of the requests waiting for them. */
  const inFlight = new Map<string, { answer: Promise<KeptResponse | null>; waiters: number }>();
  /** The commits since generation `generation - history.length`: null for "everything changed". */
  const history: (CommitChanges | null)[] = [];
  let generation = 0;
  let hits = 0;
  let misses = 0;
  let dropped = 0;
  let invalidateMs = 0;

  function remove(key: string) {
    const entry = entries.get(key);
    if (entry === undefined) return;
    entries.delete(key);
    broad.delete(key);
    for (const id of entry.reads.jobIds) {
      const keys = byJob.get(id)!;
      keys.delete(key);
      if (keys.size === 0) byJob.delete(id);
    }
  }

  function keep(key: string, response: KeptResponse, reads: ReadSet) {
    remove(key);
    if (entries.size >= maxEntries) remove(entries.keys().next().value!);
    entries.set(key, { response, reads, storedAt: Date.now() });
    for (const id of reads.jobIds) {
      let keys = byJob.get(id);
      if (keys === undefined) byJob.set(id, (keys = new Set()));
      keys.add(key);
    }
    if (reads.windows.length > 0 || reads.allJobs || reads.provers || reads.circuits || reads.claimsOfCircuits.size > 0)
      broad.add(key);
  }

  /** Whether an answer begun at generation `since` may have read something changed after it began. */
  function changedSince(since: number, reads: ReadSet): boolean {
    const missed = generation - since;
    if (missed === 0) return false;
    if (missed > history.length) return true;
    return history.slice(-missed).some((change) => change === null || reads.affectedBy(change));
  }

  return {
    lookup(key) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (Date.now() - entry.storedAt >= ttlMs) {
        remove(key);
        return undefined;
      }
      hits++;
      return entry.response;
    },
    pending(key) {
      const running = inFlight.get(key);
      if (running === undefined) return undefined;
      running.waiters++;
      return running.answer.then((response) => {
        if (response !== null) hits++;
        return response;
      });
    },
    begin(key) {
      misses++;
      const since = generation;
      let release!: (response: KeptResponse | null) => void;
      const running = { answer: new Promise<KeptResponse | null>((resolve) => (release = resolve)), waiters: 0 };
      inFlight.set(key, running);
      let finished = false;
      return {
        finish(response, reads) {
          if (finished) return;
          finished = true;
          if (inFlight.get(key) === running) inFlight.delete(key);
          const current =
            response !== null && reads !== undefined && reads.answered && !reads.clock && !changedSince(since, reads);
          // Kept when asked before, or by another client while it was being answered (a burst).
          if (current && (seenBefore(key) || running.waiters > 0 || keepFirstAnswers)) keep(key, response, reads!);
          // The queries that waited for it get it, kept or not.
          release(current ? response : null);
        },
      };
    },
    invalidate(change) {
      // A commit that changed nothing (a range without market events) leaves every answer, and every answer being
      // computed, as it was.
      if (change && change.jobs.length === 0 && !change.provers && !change.circuits) return;
      const started = performance.now();
      generation++;
      history.push(change ?? null);
      if (history.length > HISTORY) history.shift();
      // Queries arriving from now on must not wait for answers begun before this commit.
      inFlight.clear();
      const before = entries.size;
      if (change === undefined || change === null) {
        entries.clear();
        byJob.clear();
        broad.clear();
      } else {
        const stale = new Set<string>();
        for (const job of change.jobs) for (const key of byJob.get(job.id) ?? []) stale.add(key);
        for (const key of broad) if (!stale.has(key) && entries.get(key)!.reads.affectedBy(change)) stale.add(key);
        for (const key of stale) remove(key);
      }
      dropped += before - entries.size;
      invalidateMs += performance.now() - started;
    },
    stats: () => ({ hits, misses, entries: entries.size, dropped, invalidateMs: Math.round(invalidateMs) }),
  };
}
