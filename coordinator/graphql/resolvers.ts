/**
 * Resolvers over the coordinator's database. A circuit is read once per request however many jobs name it.
 * Every resolver that reads the database says what it read in `reads` (see reads.ts): the response cache keeps
 * an answer until a commit changes something it read.
 */
import { GraphQLError } from "graphql";
import { Repeater } from "graphql-yoga";
import { FINAL_STATUSES } from "../../common/market/jobStatus.ts";
import { priceAt, RECENT_LOCKED_PRICES } from "../../common/market/price.ts";
import type { Db } from "../db/client.ts";
import { type JobFilter, jobWhere } from "./jobFilter.ts";
import type { JobChangeFeed } from "./jobChangeFeed.ts";
import type { ReadSet } from "./reads.ts";

export const MAX_PAGE = 100;
/** The id of the one MarketStats entity (the subgraph's too). */
export const MARKET_STATS_ID = "market";
export { RECENT_LOCKED_PRICES } from "../../common/market/price.ts";

export type JobEventRow = Awaited<ReturnType<Db["jobEvent"]["findMany"]>>[number];

export interface Context {
  db: Db;
  circuits: Map<number, Promise<unknown>>;
  jobChanges: JobChangeFeed;
  /** A job's history in chain order, loaded together for all the jobs of a response. */
  eventsOf: (jobId: string) => Promise<JobEventRow[]>;
  /** The prices the newest claims of a circuit's jobs locked (RECENT_LOCKED_PRICES at most), newest first. */
  claimsOf: (circuitId: number) => Promise<bigint[]>;
  /** The timestamp of the newest chain head the indexer has seen; null before it has read any block. */
  headTime: () => Promise<number | null>;
  reads: ReadSet;
}

/**
 * `jobStatus(id)`: the job as it stands now, then after every indexed change, completing with the change that makes
 * it final (at once, for a job already final). An id that is not a job's is refused before the stream starts, which a
 * client sees as one error event and the end of the stream.
 */
/** Sent through a jobStatus stream when the job is no longer in the database; resolved to an error event. */
const REORGED_OUT = Symbol("reorged out");

async function jobStatusStream(id: string, db: Db, feed: JobChangeFeed) {
  if (!/^[1-9][0-9]*$/.test(id)) {
    const shown = id.length > 40 ? `${id.slice(0, 40)}…` : id;
    throw new GraphQLError(`jobStatus: "${shown}" is not a job id; job ids are whole numbers from 1, e.g. "7"`, {
      extensions: { code: "BAD_USER_INPUT" },
    });
  }
  // Listening before the first read, so that a change indexed between the two is not missed.
  const changes = feed.listen(id);
  const job = await db.job.findUnique({ where: { id } });
  if (job === null) {
    changes.close();
    throw new GraphQLError(
      `jobStatus: there is no job ${id} (not posted, or not indexed yet): subscribe once the job shows in jobs`,
      { extensions: { code: "NOT_FOUND" } },
    );
  }
  type JobRow = NonNullable<typeof job>;
  // Sent again only when it differs from what was last sent: a change published twice, or one the first read
  // already saw, is not repeated.
  let sent = JSON.stringify(job);
  // When the client leaves, `stopped` settles and closes the listening, which ends a wait for the next change.
  return new Repeater<JobRow | typeof REORGED_OUT>(async (push, stopped) => {
    void stopped.then(() => changes.close());
    try {
      await push(job);
      if (FINAL_STATUSES.has(job.status)) return;
      while ((await changes.next()) !== null) {
        const now = await db.job.findUnique({ where: { id } });
        if (now === null) {
          // A reorg took the job's posting out of the chain: said, not a silent end.
          await push(REORGED_OUT);
          return;
        }
        const text = JSON.stringify(now);
        if (text === sent) continue;
        sent = text;
        await push(now);
        if (FINAL_STATUSES.has(now.status)) return;
      }
    } finally {
      changes.close();
      stopped();
    }
  });
}

const ID_SLICE = 500;

/** `jobs(circuitId, status)`: each job posted or changed that matches, as it stands when read. Never completes. */
function jobsStream(a: { circuitId?: string | null; status?: string | null }, db: Db, feed: JobChangeFeed) {
  const changes = feed.listen();
  return new Repeater<unknown>(async (push, stopped) => {
    void stopped.then(() => changes.close());
    try {
      for (let ids = await changes.next(); ids !== null; ids = await changes.next()) {
        // In slices: a range may change more jobs than a database takes parameters in one statement.
        for (let i = 0; i < ids.length; i += ID_SLICE) {
          const jobs = await db.job.findMany({
            where: { id: { in: ids.slice(i, i + ID_SLICE) } },
            orderBy: [{ postedAt: "asc" }, { id: "asc" }],
          });
          for (const job of jobs)
            if ((!a.circuitId || String(job.circuitId) === a.circuitId) && (!a.status || job.status === a.status))
              await push(job);
        }
      }
    } finally {
      changes.close();
      stopped();
    }
  });
}

function pageSize(first: number | null | undefined, max = MAX_PAGE): number {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new GraphQLError(`first must be between 1 and ${max}, got ${n}`, {
      extensions: { code: "BAD_USER_INPUT" },
    });
  }
  return n;
}

/** The middle of a sorted list, the upper one of an even count (so it is one of the values); null when empty. */
function upperMedian<T>(sorted: T[]): T | null {
  return sorted.length > 0 ? sorted[sorted.length >> 1] : null;
}

/**
 * Cursors carry the sort key of the last row ("postedAt:id" for jobs, the address for provers), so the next page
 * is one index range scan (keyset pagination) instead of a lookup of the cursor row and an offset.
 */
const encodeCursor = (key: string) => Buffer.from(key).toString("base64url");
function decodeCursor(cursor: string, shape: RegExp): string {
  const key = Buffer.from(cursor, "base64url").toString();
  if (!shape.test(key))
    throw new GraphQLError("after: not a cursor from this API", { extensions: { code: "BAD_USER_INPUT" } });
  return key;
}
const JOB_CURSOR = /^(\d+):(\d+)$/;
const ADDRESS_CURSOR = /^0x[0-9a-fA-F]+$/;

/**
 * Rows after the cursor in (postedAt, id) order, descending or ascending: (postedAt, id) beyond (p, i), written as
 * "postedAt up to p, and past p or past i" so that the bound on postedAt is an index range condition.
 */
function afterJob(cursor: { postedAt: number; id: string }, direction: "asc" | "desc") {
  const { postedAt, id } = cursor;
  const [upTo, beyond] = direction === "desc" ? (["lte", "lt"] as const) : (["gte", "gt"] as const);
  return {
    postedAt: { [upTo]: postedAt },
    OR: [{ postedAt: { [beyond]: postedAt } }, { id: { [beyond]: id } }],
  };
}

function jobCursor(cursor: string): { postedAt: number; id: string } {
  const [, postedAt, id] = JOB_CURSOR.exec(decodeCursor(cursor, JOB_CURSOR))!;
  return { postedAt: Number(postedAt), id };
}

function page<T>(rows: T[], size: number, idOf: (row: T) => string) {
  const nodes = rows.slice(0, size);
  return {
    nodes,
    pageInfo: {
      hasNextPage: rows.length > size,
      endCursor: nodes.length > 0 ? encodeCursor(idOf(nodes.at(-1)!)) : null,
    },
  };
}

export const resolvers = {
  Query: {
    job: (_: unknown, { id }: { id: string }, { db, reads }: Context) => {
      reads.job(id);
      return db.job.findUnique({ where: { id } });
    },
    jobs: async (
      _: unknown,
      a: { where?: JobFilter; first?: number; after?: string; orderBy?: string },
      { db, reads }: Context,
    ) => {
      const size = pageSize(a.first);
      const direction = a.orderBy === "POSTED_AT_ASC" ? "asc" : "desc";
      const where = jobWhere(a.where ?? {});
      const cursor = a.after ? jobCursor(a.after) : null;
      const rows = await db.job.findMany({
        where: cursor ? { AND: [where, afterJob(cursor, direction)] } : where,
        orderBy: [{ postedAt: direction }, { id: direction }],
        take: size + 1,
      });
      reads.jobsPage(a.where ?? {}, direction, cursor?.postedAt ?? null, rows, size);
      return page(rows, size, (r) => `${r.postedAt}:${r.id}`);
    },
    prover: (_: unknown, { id }: { id: string }, { db, reads }: Context) => {
      reads.provers = true;
      return db.prover.findUnique({ where: { address: id.toLowerCase() } });
    },
    provers: async (_: unknown, a: { first?: number; after?: string }, { db, reads }: Context) => {
      reads.provers = true;
      const size = pageSize(a.first);
      const rows = await db.prover.findMany({
        orderBy: [{ jobsProved: "desc" }, { address: "asc" }],
        take: size + 1,
        ...(a.after ? { cursor: { address: decodeCursor(a.after, ADDRESS_CURSOR) }, skip: 1 } : {}),
      });
      return page(rows, size, (r) => r.address);
    },
    circuit: (_: unknown, { id }: { id: string }, { db, reads }: Context) => {
      reads.circuits = true;
      return db.circuit.findUnique({ where: { id: Number(id) } });
    },
    circuits: (_: unknown, __: unknown, { db, reads }: Context) => {
      reads.circuits = true;
      return db.circuit.findMany({ orderBy: { id: "asc" } });
    },
    marketStats: async (_: unknown, { id }: { id?: string }, { db, reads }: Context) => {
      if (id !== undefined && id !== null && id !== MARKET_STATS_ID) return null;
      reads.allJobs = true;
      const counts = await db.job.groupBy({ by: ["status"], _count: { _all: true } });
      const count = (s: string) => counts.find((c) => c.status === s)?._count._all ?? 0;
      const proved = await db.job.findMany({
        where: { status: "Proved" },
        select: { maxFee: true, lockedPrice: true, postedAt: true, provedAt: true },
      });
      const held = await db.job.findMany({ where: { status: { in: ["Open", "Claimed"] } }, select: { maxFee: true } });
      const times = proved.map((j) => (j.provedAt ?? j.postedAt) - j.postedAt).sort((x, y) => x - y);
      const sum = (amounts: bigint[]) => amounts.reduce((total, x) => total + x, 0n).toString();
      // A proved job always has the price it was paid (rows.ts, from the fold; the migration gave older rows theirs).
      const paid = proved.map((j) => BigInt(j.lockedPrice!));
      const slashes = await db.jobEvent.count({
        where: { OR: [{ kind: { in: ["Reassigned", "Abandoned"] } }, { kind: "Expired", prover: { not: null } }] },
      });
      return {
        id: MARKET_STATS_ID,
        open: count("Open"),
        claimed: count("Claimed"),
        proved: count("Proved"),
        cancelled: count("Cancelled"),
        expired: count("Expired"),
        feesPaid: sum(paid),
        requesterSavings: sum(proved.map((j, i) => BigInt(j.maxFee) - paid[i])),
        escrowed: sum(held.map((j) => BigInt(j.maxFee))),
        slashes,
        medianTimeToProof: upperMedian(times),
      };
    },
  },
  Subscription: {
    jobStatus: {
      subscribe: (_: unknown, { id }: { id: string }, { db, jobChanges }: Context) =>
        jobStatusStream(id, db, jobChanges),
      resolve: (job: unknown, { id }: { id: string }) => {
        if (job !== REORGED_OUT) return job;
        throw new GraphQLError(
          `jobStatus: job ${id} is gone: a chain reorganization removed the block that posted it; it may be posted ` +
            "again in a new block (subscribe again once it shows in jobs)",
          { extensions: { code: "REORGED_OUT" } },
        );
      },
    },
    jobs: {
      subscribe: (_: unknown, a: { circuitId?: string; status?: string }, { db, jobChanges }: Context) =>
        jobsStream(a, db, jobChanges),
      resolve: (job: unknown) => job,
    },
  },
  Job: {
    circuit: (job: { circuitId: number }, _: unknown, { db, circuits, reads }: Context) => {
      reads.circuits = true;
      if (!circuits.has(job.circuitId))
        circuits.set(job.circuitId, db.circuit.findUnique({ where: { id: job.circuitId } }));
      return circuits.get(job.circuitId);
    },
    outputs: (job: { outputs: string | null }) => (job.outputs === null ? null : JSON.parse(job.outputs)),
    currentPrice: async (job: JobPriceFields, _: unknown, { headTime, reads }: Context) => {
      reads.clock = true;
      if (job.status !== "Open") return null;
      const now = await headTime();
      if (now === null || now >= job.expiresAt) return null;
      const ramp = {
        minFee: BigInt(job.minFee),
        maxFee: BigInt(job.maxFee),
        rampStart: BigInt(job.rampStart),
        rampDuration: BigInt(job.rampDuration),
      };
      return priceAt(ramp, BigInt(now)).toString();
    },
    events: (job: { id: string }, _: unknown, { eventsOf, reads }: Context) => {
      reads.job(job.id);
      return eventsOf(job.id);
    },
  },
  JobEvent: {
    job: (e: { jobId: string }, _: unknown, { db, reads }: Context) => {
      reads.job(e.jobId);
      return db.job.findUnique({ where: { id: e.jobId } });
    },
    ...eventFields(),
  },
  Prover: {
    id: (p: { address: string }) => p.address,
  },
  Circuit: {
    id: (c: { id: number }) => String(c.id),
    recentLockedPrices: async (c: { id: number }, { first }: { first?: number }, { claimsOf, reads }: Context) => {
      const size = pageSize(first, RECENT_LOCKED_PRICES);
      reads.claimsOfCircuits.add(c.id);
      return (await claimsOf(c.id)).slice(0, size).map(String);
    },
    medianLockedPrice: async (c: { id: number }, _: unknown, { claimsOf, reads }: Context) => {
      reads.claimsOfCircuits.add(c.id);
      const sorted = [...(await claimsOf(c.id))].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
      return upperMedian(sorted)?.toString() ?? null;
    },
  },
};

/** The fields of a job row that price it now. */
interface JobPriceFields {
  status: string;
  minFee: string;
  maxFee: string;
  rampStart: number;
  rampDuration: number;
  expiresAt: number;
}

/**
 * A history entry's typed fields, read from the event's stored arguments (decimal strings): which argument each
 * field shows depends on the kind of event.
 */
function eventFields() {
  const args = (e: { data: string }) => JSON.parse(e.data) as Record<string, any>;
  return {
    minFee: (e: { data: string }) => args(e).newMinFee ?? args(e).minFee ?? null,
    maxFee: (e: { data: string }) => args(e).newMaxFee ?? args(e).maxFee ?? null,
    rampStart: (e: { data: string }) => {
      const start = args(e).newRampStart ?? args(e).rampStart;
      return start === undefined ? null : Number(start);
    },
    price: (e: { data: string }) => args(e).price ?? null,
    bond: (e: { data: string }) => args(e).bond ?? null,
    deadline: (e: { data: string }) => (args(e).deadline === undefined ? null : Number(args(e).deadline)),
    refund: (e: { data: string }) => args(e).refund ?? null,
    keeper: (e: { data: string }) => args(e).keeper ?? null,
    slashed: (e: { data: string }) => args(e).split?.slashed ?? null,
    outputs: (e: { data: string }) => {
      const outputs = args(e).outputs;
      return outputs === undefined ? null : Object.values(outputs as Record<string, string>);
    },
  };
}
