/**
 * A response cache for GraphQL queries. The database has one writer, the indexer, which commits a range of blocks
 * at a time; between commits every query's answer is fixed, so answers are kept (serialized, ready to send) and
 * the whole cache is dropped the moment the indexer commits (`invalidate`). A short time-to-live bounds staleness
 * should anything else write. Only queries without errors are kept; subscriptions and mutations never are.
 * Identical queries that arrive while the first is still being answered wait for its answer instead of running
 * again, so a burst of clients right after a commit costs one database query per distinct query.
 */
import { getOperationAST, type DocumentNode, type ExecutionResult } from "graphql";
import type { Plugin } from "graphql-yoga";

export interface ResponseCache {
  plugin: Plugin;
  /** Drops every kept answer; answers being computed when this is called are not kept either. */
  invalidate(): void;
  stats(): { hits: number; misses: number; entries: number };
}

interface Entry {
  result: ExecutionResult;
  text: string;
  storedAt: number;
}

export function createResponseCache({ maxEntries = 10_000, ttlMs = 60_000 } = {}): ResponseCache {
  const entries = new Map<string, Entry>();
  /** For a request that missed: its key, the cache generation it started in, and its waiters' release. */
  const pending = new WeakMap<Request, { key: string; generation: number; release: (e: Entry | null) => void }>();
  /** Answers being computed, by key: identical queries wait on them. */
  const inFlight = new Map<string, Promise<Entry | null>>();
  let generation = 0;
  let hits = 0;
  let misses = 0;

  const plugin: Plugin = {
    async onParams({ request, params, setResult }) {
      if (typeof params.query !== "string" || params.extensions !== undefined) return;
      const key = `${params.operationName ?? ""}\u0000${params.query}\u0000${JSON.stringify(params.variables ?? null)}`;
      const serve = (entry: Entry) => setResult({ ...entry.result, stringify: () => entry.text } as ExecutionResult);
      const entry = entries.get(key);
      if (entry !== undefined && Date.now() - entry.storedAt < ttlMs) {
        hits++;
        return serve(entry);
      }
      const running = inFlight.get(key);
      if (running !== undefined) {
        const shared = await running;
        if (shared !== null) {
          hits++;
          return serve(shared);
        }
      }
      misses++;
      let release!: (e: Entry | null) => void;
      const promise = new Promise<Entry | null>((r) => (release = r));
      inFlight.set(key, promise);
      pending.set(request, {
        key,
        generation,
        release: (e) => {
          if (inFlight.get(key) === promise) inFlight.delete(key);
          release(e);
        },
      });
    },
    // Whatever became of the request (kept, an error, not a query), its waiters are released.
    onResultProcess({ request }) {
      pending.get(request)?.release(null);
      pending.delete(request);
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const miss = request && pending.get(request);
      if (!miss) return;
      const operation = getOperationAST(args.document as DocumentNode, args.operationName ?? undefined);
      if (operation?.operation !== "query") return;
      return {
        onExecuteDone({ result }) {
          if (Symbol.asyncIterator in (result as object)) return;
          const done = result as ExecutionResult;
          if (done.errors !== undefined || miss.generation !== generation) return;
          if (entries.size >= maxEntries) entries.delete(entries.keys().next().value!);
          const kept = { result: done, text: JSON.stringify(done), storedAt: Date.now() };
          entries.set(miss.key, kept);
          miss.release(kept);
        },
      };
    },
  };

  return {
    plugin,
    invalidate() {
      generation++;
      entries.clear();
      inFlight.clear();
    },
    stats: () => ({ hits, misses, entries: entries.size }),
  };
}
