/**
 * Discovery: keeps the worker's job book in step with the chain. It reads the market's events through the shared
 * chain reader (ranged, resumable from the stored cursor, block-hash checked), folds them into the book and stores
 * events, jobs, blocks and cursor in one transaction per range. When the reader reports a reorg it undoes
 * everything above the fork point (each touched job folded again from its remaining events; a job whose posting
 * is gone leaves the book) and hands the notice on, so that reconciliation can check the worker's own claims.
 *
 * It reads to the head (no confirmation depth): a worker must see a job as soon as it is posted to win it, and a
 * reorg is undone rather than waited out.
 */
import { type BlockRef, type ChainEvent, type LogReader, ReorgTooDeepError } from "../../../common/chain/logReader.ts";
import { JOB_EVENTS } from "../../../common/market/fold.ts";
import { JobBook, type JobView } from "../../../common/market/jobBook.ts";
import type { Logger } from "../../../common/log.ts";
import type { Metrics } from "../metrics.ts";
import type { StoredEvent, WorkerStore } from "../store.ts";

export interface ReorgNotice {
  fork: BlockRef;
  /** Jobs whose posting the reorg removed: gone from the book. */
  removed: bigint[];
  /** Jobs still posted whose state the reorg changed, as they stand now. */
  changed: JobView[];
}

export interface DiscoveryOptions {
  reader: LogReader;
  store: WorkerStore;
  book: JobBook;
  /** The market's deployment block: reading starts there on a fresh store. */
  startBlock: number;
  metrics: Metrics;
  logger: Logger;
  /** Told of every reorg once the store and the book are rewound. */
  onReorg(notice: ReorgNotice): Promise<void> | void;
  /** Told of each range's job events once they are stored (the worker looks for claims of its own among them). */
  onEvents?(events: readonly ChainEvent[]): Promise<void> | void;
}

export function createDiscovery(o: DiscoveryOptions) {
  /** Folds one job again from its stored events; null when its posting is among the events undone. */
  function refold(jobId: bigint, events: StoredEvent[]): JobView | null {
    const fresh = new JobBook();
    fresh.apply(events);
    return fresh.jobs.get(jobId) ?? null;
  }

  /**
   * Reads ranges toward the head, at most `maxRanges` in one pass (so that a long backfill does not hold the stage:
   * the caller passes again at once while `caughtUp` is false). A reorg deeper than the blocks kept cannot be undone
   * piecemeal: the book, its events and its cursor are dropped and read again from the start block (claims stay, and
   * reconciliation checks them against the chain).
   */
  async function poll(maxRanges = 50): Promise<{ ranges: number; reorgs: number; caughtUp: boolean }> {
    let ranges = 0;
    let reorgs = 0;
    while (ranges < maxRanges) {
      const cursor = o.store.cursor() ?? { number: o.startBlock - 1, hash: null };
      let step;
      try {
        step = await o.reader.next(cursor, () => o.store.keptBlocks());
      } catch (e) {
        if (!(e instanceof ReorgTooDeepError)) throw e;
        o.logger.error("reorg deeper than the blocks kept: reading the market's events again from the start block", {
          error: e.message,
          startBlock: o.startBlock,
        });
        o.store.resetChainState();
        o.book.jobs.clear();
        o.metrics.reorgs.inc();
        reorgs++;
        continue;
      }
      if (step === null) return { ranges, reorgs, caughtUp: true };
      if (step.kind === "reorg") {
        reorgs++;
        const { changed, removed } = o.store.rewind(step.fork, refold);
        for (const id of removed) o.book.jobs.delete(id);
        for (const view of changed) o.book.jobs.set(view.jobId, view);
        o.metrics.reorgs.inc();
        o.logger.warn("reorg: rewound the job book to the fork point", {
          fork: step.fork.number,
          orphaned: step.orphaned.number,
          jobsRemoved: removed.map(String),
          jobsChanged: changed.map((v) => String(v.jobId)),
        });
        await o.onReorg({ fork: step.fork, removed, changed });
        continue;
      }
      ranges++;
      const events = step.events.filter((e) => JOB_EVENTS.includes(e.name));
      const touched = o.book.apply(events);
      for (const j of touched)
        if (j.status === "Open" && j.attempt === 0n && j.postedAtBlock >= step.from) o.metrics.jobsSeen.inc();
      o.store.saveRange(step.cursor, events, touched, step.blocks);
      o.metrics.headBlock.set(step.to);
      await o.onEvents?.(events);
    }
    return { ranges, reorgs, caughtUp: false };
  }

  return { poll };
}
export type Discovery = ReturnType<typeof createDiscovery>;
