/**
 * The one chain reader: every component that reads the market's events (the coordinator's indexer, the worker's
 * job book, the requester) reads them here, and nothing else calls eth_getLogs.
 *
 * It reads ranged `eth_getLogs` forward from a cursor the caller stores (so it resumes where it stopped), as far as
 * the head less a confirmation depth, and hands back decoded events with the headers of the blocks they are in.
 * Public providers cap a request's block range or result count, rate-limit and drop connections: a range the
 * provider refuses as too large shrinks (to what the provider suggests, else by half) and grows again after a run of
 * answers. A cap on the blocks per request is learnt (the provider's stated maximum, else found by bisection between
 * the largest range answered and the smallest refused) and never exceeded again; a cap on results depends on the
 * events in the range, so after one the range doubles again. 429s, timeouts and dropped connections are retried
 * with exponential backoff and jitter, a bounded number of times. Continuity is checked by block hash: the first
 * block of each range must have the cursor's block as parent, each log's block hash must be the canonical one, and
 * the chain must be the same before and after the logs were read (a block at or above the range's end, read before
 * and after). When the cursor's block is no longer on the chain the reader answers with a `reorg` notice carrying
 * the fork point (the newest block the caller kept that is still canonical); the caller rewinds to it and reads on
 * from there.
 */
import { backoffDelay } from "../backoff.ts";
import type { Interface } from "ethers";
import { FatalError, RetryableError } from "../errors.ts";
import { createEventDecoder } from "./eventDecoder.ts";
import { classifyRpcFailure, type RpcFailure } from "./rpcErrors.ts";

export interface BlockRef {
  number: number;
  hash: string;
}

export interface BlockHeader extends BlockRef {
  parentHash: string;
  timestamp: number;
}

/** A decoded event and where it is on the chain. `args` is ethers' decoded arguments as a plain object. */
export interface ChainEvent {
  name: string;
  args: Record<string, unknown>;
  blockNumber: number;
  blockHash: string;
  logIndex: number;
  txHash: string;
  /** Block timestamp (unix seconds). */
  timestamp: number;
}

/** Where a reader stands: the last block it has delivered. `hash` is null before the start block (nothing read). */
export interface Cursor {
  number: number;
  hash: string | null;
}

export type ReadStep =
  /** Events of blocks from..to (in chain order) and the headers the reader checked; `cursor` is the new position. */
  | { kind: "range"; from: number; to: number; events: ChainEvent[]; blocks: BlockHeader[]; cursor: Cursor }
  /** The cursor's block left the chain: everything above `fork` must be undone; read on from `fork`. */
  | { kind: "reorg"; fork: BlockRef; orphaned: Cursor };

/** Anything that sends JSON-RPC: an ethers JsonRpcProvider, Hardhat's in-process provider. */
export interface RpcSender {
  send(method: string, params: unknown[]): Promise<unknown>;
}

export interface LogReaderOptions {
  provider: RpcSender;
  address: string;
  /** The contract's ABI: its logs are decoded with it (common/chain/eventDecoder.ts); logs it does not know are skipped. */
  iface: Interface;
  /** Blocks below the head that are not read yet (0: read to the head). */
  confirmations?: number;
  /** Blocks per request to begin with (default 2,000), and at most (default 10,000). */
  initialRange?: number;
  maxRange?: number;
  /** Failed attempts of one request before giving up (default 8); backoff doubles from 250 ms to at most 10 s. */
  maxAttempts?: number;
  backoffMs?: { initial: number; max: number };
  /** Successful answers in a row before the range doubles again (default 4). */
  growAfter?: number;
  /** Called on every retry (for metrics and logs). */
  onRetry?: (r: { method: string; kind: string; attempt: number; delayMs: number; message: string }) => void;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** eth_getLogs and block reads failed more often than the reader retries; trying again later may work. */
export class ChainReadError extends RetryableError {}

/** The chain forked below every block the caller kept: its state cannot be rewound; it must re-read from its start. */
export class ReorgTooDeepError extends FatalError {}

/** A provider refused even a one-block range: the reader cannot narrow it further. */
export class RangeIrreducibleError extends FatalError {}

/** A request the provider refused as too large: the range is narrowed, never passed on to callers. */
class TooLarge extends Error {
  readonly failure: Extract<RpcFailure, { kind: "tooLarge" }>;
  constructor(failure: Extract<RpcFailure, { kind: "tooLarge" }>, options: { cause: unknown }) {
    super(failure.message, options);
    this.failure = failure;
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;
const ZERO_HASH = `0x${"0".repeat(64)}`;

interface RawLog {
  blockNumber: string;
  blockHash: string;
  transactionHash: string;
  logIndex: string;
  topics: string[];
  data: string;
  removed?: boolean;
}

export function createLogReader(o: LogReaderOptions) {
  const confirmations = o.confirmations ?? 0;
  const maxRange = Math.max(1, o.maxRange ?? 10_000);
  let range = Math.min(maxRange, Math.max(1, o.initialRange ?? 2_000));
  /** The most blocks per request the provider takes, as far as it has said (or refusals have shown). */
  let ceiling = maxRange;
  /** Whether `ceiling` was found by refusals rather than stated: growth then bisects towards it. */
  let ceilingGuessed = false;
  /** The widest range answered so far. */
  let widestAnswered = 0;
  let successes = 0;
  const maxAttempts = o.maxAttempts ?? 8;
  const backoff = o.backoffMs ?? { initial: 250, max: 10_000 };
  const growAfter = o.growAfter ?? 4;
  const random = o.random ?? Math.random;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const decodeLog = createEventDecoder(o.iface);

  /** One JSON-RPC call, retried on rate limits and passing failures; a too-large eth_getLogs is thrown as TooLarge. */
  async function call<T>(method: string, params: unknown[]): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await o.provider.send(method, params)) as T;
      } catch (e) {
        const failure = classifyRpcFailure(e);
        if (failure.kind === "tooLarge" && method === "eth_getLogs") throw new TooLarge(failure, { cause: e });
        if (failure.kind === "tooLarge" || failure.kind === "other" || attempt >= maxAttempts) {
          throw new ChainReadError("chain", "RPC_FAILED", `${method} failed after ${attempt} attempt(s)`, {
            cause: e,
            details: { method, kind: failure.kind },
          });
        }
        const delayMs = backoffDelay(attempt, { initialMs: backoff.initial, maxMs: backoff.max }, random);
        o.onRetry?.({ method, kind: failure.kind, attempt, delayMs, message: failure.message });
        await sleep(delayMs);
      }
    }
  }

  /** The chain's head block number, read uncached (ethers may answer from a polling cache). */
  async function head(): Promise<number> {
    return Number(await call<string>("eth_blockNumber", []));
  }

  /** A block's header as the node sees it now; null when the node does not have it (yet). */
  async function header(n: number): Promise<BlockHeader | null> {
    const b = await call<{ number: string; hash: string; parentHash: string; timestamp: string } | null>(
      "eth_getBlockByNumber",
      [hex(n), false],
    );
    return b === null
      ? null
      : { number: Number(b.number), hash: b.hash, parentHash: b.parentHash, timestamp: Number(b.timestamp) };
  }

  async function headers(numbers: number[]): Promise<Map<number, BlockHeader>> {
    const found = await Promise.all([...new Set(numbers)].map(header));
    const byNumber = new Map<number, BlockHeader>();
    for (const b of found) if (b !== null) byNumber.set(b.number, b);
    return byNumber;
  }

  function decode(logs: RawLog[], blocks: Map<number, BlockHeader>): ChainEvent[] {
    const events: ChainEvent[] = [];
    for (const log of logs) {
      if (log.removed === true) continue;
      const parsed = decodeLog(log);
      if (parsed === null) continue;
      const blockNumber = Number(log.blockNumber);
      events.push({
        name: parsed.name,
        args: parsed.args,
        blockNumber,
        blockHash: log.blockHash,
        logIndex: Number(log.logIndex),
        txHash: log.transactionHash,
        timestamp: blocks.get(blockNumber)?.timestamp ?? 0,
      });
    }
    return events.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  }

  /**
   * eth_getLogs for from..to (at most `range` blocks at a time, shrinking on refusals): the logs of the first span
   * the provider answers, and where that span ended.
   */
  async function getLogs(
    from: number,
    to: number,
    topics?: (string | string[] | null)[],
  ): Promise<{ logs: RawLog[]; end: number }> {
    for (;;) {
      const end = Math.min(to, from + range - 1);
      try {
        const logs = await call<RawLog[]>("eth_getLogs", [
          { address: o.address, fromBlock: hex(from), toBlock: hex(end), ...(topics ? { topics } : {}) },
        ]);
        widestAnswered = Math.max(widestAnswered, end - from + 1);
        if (++successes >= growAfter && range < ceiling) {
          // Towards a cap found by refusals, halfway (bisection); else doubling, up to the (stated) cap.
          range = ceilingGuessed ? range + Math.ceil((ceiling - range) / 2) : Math.min(ceiling, range * 2);
          successes = 0;
        }
        return { logs, end };
      } catch (e) {
        if (!(e instanceof TooLarge)) throw e;
        const { failure } = e;
        successes = 0;
        const span = end - from + 1;
        if (span <= 1)
          throw new RangeIrreducibleError("chain", "RPC_RANGE_IRREDUCIBLE", `eth_getLogs refused one block`, {
            cause: e,
            details: { block: from },
          });
        // What the provider says fits, if it says; else half. Never more than what was just refused.
        const suggested =
          failure.suggestedTo !== undefined && failure.suggestedTo >= from ? failure.suggestedTo - from + 1 : undefined;
        if (failure.limit === "blocks") {
          // A cap on blocks refuses this span (and any wider) every time: never ask for as many again, whatever cap
          // the provider states (some state one more block than they take).
          const cap = Math.min(failure.maxRange ?? span - 1, span - 1);
          if (cap < ceiling || (ceilingGuessed && failure.maxRange !== undefined)) {
            ceiling = Math.max(1, Math.min(cap, span - 1));
            ceilingGuessed = failure.maxRange === undefined;
          }
        }
        const fallback =
          failure.limit === "blocks" && widestAnswered < span
            ? Math.max(widestAnswered, Math.floor(span / 2))
            : Math.floor(span / 2);
        range = Math.max(1, Math.min(span - 1, ceiling, suggested ?? failure.maxRange ?? fallback));
        o.onRetry?.({ method: "eth_getLogs", kind: "tooLarge", attempt: 1, delayMs: 0, message: failure.message });
      }
    }
  }

  /**
   * The next range after `cursor` (null when the confirmed head is not beyond it). `startBlock` is where reading
   * begins when the cursor has no hash yet. `kept` lists blocks the caller holds state for, newest first: on a reorg
   * the newest of them still on the chain is the fork point.
   */
  async function next(cursor: Cursor, kept: () => Promise<BlockRef[]> | BlockRef[]): Promise<ReadStep | null> {
    const target = (await head()) - confirmations;
    const from = cursor.number + 1;
    if (from > target) {
      // Nothing new, or a stale head from a load-balanced provider. Still check the cursor itself: a reorg that
      // replaced the newest blocks without making the chain longer would otherwise go unseen until it grew.
      if (cursor.hash !== null) {
        const at = await header(cursor.number);
        if (at !== null && at.hash !== cursor.hash) return reorg(cursor, kept);
      }
      return null;
    }
    // A block at or above the range's end (the range may still shrink), read before the logs and again after: if it
    // is the same, so is every block below it, and the logs were read from the chain the headers describe.
    const probe = Math.min(target, from + range - 1);
    const before = await header(probe);
    if (before === null) return null; // the node answering is behind its own head: try again later
    const { logs, end } = await getLogs(from, target);
    const blocks = await headers([from, end, probe, ...logs.map((l) => Number(l.blockNumber))]);
    const after = blocks.get(probe);
    if (probe > end) blocks.delete(probe);
    const first = blocks.get(from);
    const last = blocks.get(end);
    if (first === undefined || last === undefined) return null; // the node answering is behind: try again later
    if (cursor.hash !== null && first.parentHash !== cursor.hash) {
      // A block that names no parent (hardhat_mine's reserved blocks on a development node): the cursor's own block
      // is checked instead.
      if (first.parentHash !== ZERO_HASH) return reorg(cursor, kept);
      if ((await header(cursor.number))?.hash !== cursor.hash) return reorg(cursor, kept);
    }
    const raced =
      after?.hash !== before.hash || logs.some((l) => blocks.get(Number(l.blockNumber))?.hash !== l.blockHash);
    if (raced) return null; // the chain changed while the range was read: read it again next time
    return {
      kind: "range",
      from,
      to: end,
      events: decode(logs, blocks),
      blocks: [...blocks.values()].sort((a, b) => a.number - b.number),
      cursor: { number: end, hash: last.hash },
    };
  }

  async function reorg(cursor: Cursor, kept: () => Promise<BlockRef[]> | BlockRef[]): Promise<ReadStep | null> {
    const candidates = [...(await kept())].sort((a, b) => b.number - a.number);
    for (const b of candidates) {
      const onChain = await header(b.number);
      if (onChain?.hash !== b.hash) continue;
      // The cursor's own block is still canonical: answers from nodes at different heights disagreed, nothing forked.
      if (b.number === cursor.number && b.hash === cursor.hash) return null;
      return { kind: "reorg", fork: { number: b.number, hash: b.hash }, orphaned: cursor };
    }
    throw new ReorgTooDeepError(
      "chain",
      "REORG_TOO_DEEP",
      `the chain forked below the ${candidates.length} block(s) kept (cursor ${cursor.number}): ` +
        "re-read from the start block",
      { details: { cursor } },
    );
  }

  /**
   * Every event matching `topics` in from..to (to defaults to the head), in ranges the provider accepts; for
   * one-off lookups (a job's own events by its indexed id), with no cursor and no reorg checks.
   */
  async function scan(
    fromBlock: number,
    topics: (string | string[] | null)[],
    toBlock?: number,
    withTimestamps = false,
  ): Promise<ChainEvent[]> {
    const to = toBlock ?? (await head());
    const events: ChainEvent[] = [];
    for (let from = fromBlock; from <= to;) {
      const { logs, end } = await getLogs(from, to, topics);
      const blocks = withTimestamps ? await headers(logs.map((l) => Number(l.blockNumber))) : new Map();
      events.push(...decode(logs, blocks));
      from = end + 1;
    }
    return events;
  }

  return {
    head,
    header,
    next,
    scan,
    /** Blocks per eth_getLogs request now (it adapts to the provider's answers). */
    get range() {
      return range;
    },
  };
}
export type LogReader = ReturnType<typeof createLogReader>;
