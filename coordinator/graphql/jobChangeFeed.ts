/**
 * The jobs each indexed range changed, handed to the subscriptions. A listener does not queue events: it keeps the
 * set of job ids changed since it last took them, and takes the whole set when it is ready. A slow subscriber (a
 * stalled client, a long read) or a range that changes thousands of jobs costs at most one entry per distinct job,
 * and what the subscriber reads next is each job as it stands then, which is all a subscription sends. (A queue of
 * events, as in yoga's pubsub, overflows its 1,024 pending pushes under such a range and throws inside the indexer.)
 */
type Listener = (jobIds: readonly string[]) => void;

/** One subscriber's view of the feed: the ids changed since its last `next()`. */
export interface JobChanges {
  /** The ids changed since the last call (waiting for at least one), in no particular order; null once closed. */
  next(): Promise<string[] | null>;
  close(): void;
}

export class JobChangeFeed {
  private readonly listeners = new Set<Listener>();

  /** The indexer: these jobs were written by the range just committed. */
  publish(jobIds: readonly string[]): void {
    if (jobIds.length === 0) return;
    for (const listener of this.listeners) listener(jobIds);
  }

  /** How many subscribers are listening. */
  get listening(): number {
    return this.listeners.size;
  }

  /**
   * Starts listening now, so that a change between this call and the subscriber's first read of the database is
   * not missed. `only`: one job's changes. The caller closes it when the subscription ends.
   */
  listen(only?: string): JobChanges {
    const pending = new Set<string>();
    let closed = false;
    let wake: (() => void) | null = null;
    const listener: Listener = (jobIds) => {
      for (const id of jobIds) if (only === undefined || id === only) pending.add(id);
      if (pending.size > 0) wake?.();
    };
    this.listeners.add(listener);
    return {
      next: async () => {
        while (pending.size === 0 && !closed) await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        if (closed) return null;
        const batch = [...pending];
        pending.clear();
        return batch;
      },
      close: () => {
        closed = true;
        this.listeners.delete(listener);
        wake?.();
      },
    };
  }
}
