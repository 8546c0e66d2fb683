/**
 * Resolvers over the coordinator's database. A circuit is read once per request however many jobs name it.
 * Every resolver that reads the database says what it read in `reads` (see reads.ts): the response cache keeps
 * an answer until a commit changes something it read.
 */
import { GraphQLError, type GraphQLResolveInfo } from "graphql";
import { Repeater } from "graphql-yoga";
import { FINAL_STATUSES } from "../../common/market/jobStatus.ts";
import { priceAt, RECENT_LOCKED_PRICES } from "../../common/market/price.ts";
import { type Db, sqlReaderOf } from "../db/client.ts";
import { type JobFilter, jobWhere } from "./jobFilter.ts";
import { raw, sqltag as sql } from "@prisma/client/runtime/client";
import { BigIntScalar, BytesScalar } from "./scalars.ts";
import { selectedColumns } from "./selectedColumns.ts";
import { CHANGED_AT, type Condition, matches, pageRange } from "./theGraphFilter.ts";
import {
  type BlockArgument,
  checkBlock,
  type EntityModel,
  indexedHead,
  type ListArgs,
  pageRows,
  pageInMemory,
} from "./theGraphLists.ts";
import { columnOf, type Dialect, selectList } from "./theGraphSql.ts";
import type { JobChangeFeed } from "./jobChangeFeed.ts";
import type { ReadSet } from "./reads.ts";

export const MAX_PAGE = 100;
/** The id of the one MarketStats entity (the subgraph's too). */
export const MARKET_STATS_ID = "market";
export { RECENT_LOCKED_PRICES } from "../../common/market/price.ts";

export type JobEventRow = Awaited<ReturnType<Db["jobEvent"]["findMany"]>>[number];

interface BlockArgs {
  block?: BlockArgument | null;
}
interface ByIdArgs extends BlockArgs {
  id: string;
}

/** A circuit as the API shows it: its registration, and (once `withRecentPrices` added them) its recent prices. */
export interface CircuitEntity extends Record<string, unknown> {
  id: string;
  registeredAtBlock: number;
  recentLockedPrices?: string[];
  medianLockedPrice?: string | null;
}

/** The prices the newest claims of a circuit's jobs locked (newest first), and the block of the newest. */
export interface RecentClaims {
  prices: string[];
  newestBlock: number | null;
}

/** Every circuit's registration (circuits are few: read once per request). */
export async function loadCircuits(db: Db, reads: ReadSet): Promise<CircuitEntity[]> {
  reads.circuits = true;
  return (await db.circuit.findMany({ orderBy: { id: "asc" } })).map((c) => ({ ...c, id: String(c.id) }));
}

/** Per circuit, one index range (JobEvent by circuit, kind and chain order): its newest claims' prices. */
export async function loadRecentClaims(db: Db, circuitIds: number[]): Promise<Map<number, RecentClaims>> {
  const lists = await Promise.all(
    circuitIds.map((circuitId) =>
      db.jobEvent.findMany({
        where: { circuitId, kind: "Claimed" },
        orderBy: [{ blockNumber: "desc" }, { logIndex: "desc" }],
        take: RECENT_LOCKED_PRICES,
        select: { price: true, blockNumber: true },
      }),
    ),
  );
  return new Map(
    circuitIds.map((id, i) => [
      id,
      { prices: lists[i].map((e) => e.price!), newestBlock: lists[i][0]?.blockNumber ?? null },
    ]),
  );
}

const byAmount = (x: bigint, y: bigint) => (x < y ? -1 : x > y ? 1 : 0);

/**
 * Circuits with their recent prices, their median and the block they last changed at (registration or newest claim):
 * what filtering or sorting circuits in memory looks at.
 */
async function withRecentPrices(circuits: CircuitEntity[], ctx: Context): Promise<CircuitEntity[]> {
  return Promise.all(
    circuits.map(async (c) => {
      ctx.reads.claimsOfCircuits.add(Number(c.id));
      const { prices, newestBlock } = await ctx.claimsOf(Number(c.id));
      return {
        ...c,
        recentLockedPrices: prices,
        medianLockedPrice: upperMedian(prices.map(BigInt).sort(byAmount))?.toString() ?? null,
        [CHANGED_AT]: Math.max(c.registeredAtBlock, newestBlock ?? 0),
      };
    }),
  );
}

/** The ids of the circuits that meet a filter (a job's `circuit_`), for the SQL of a job list. */
function circuitIdsMeeting(ctx: Context) {
  return async (filter: Condition) =>
    (await withRecentPrices(await ctx.circuits(), ctx)).filter((c) => matches(filter, c) === true).map((c) => c.id);
}

/** The market's totals, computed from every job, and the block of the newest event (its last change). */
async function marketStatsEntity(db: Db) {
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
  const newest = await db.jobEvent.aggregate({ _max: { blockNumber: true } });
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
    [CHANGED_AT]: newest._max.blockNumber ?? 0,
  };
}

export interface Context {
  db: Db;
  jobChanges: JobChangeFeed;
  /** The entities and the tables behind them (theGraphLists.ts), and how the database compares text. */
  model: EntityModel;
  dialect: () => Promise<Dialect>;
  /** A job's history in chain order, loaded together for all the jobs of a response. */
  eventsOf: (jobId: string) => Promise<JobEventRow[]>;
  /** Every circuit's registration, read once per request (circuits are few). */
  circuits: () => Promise<CircuitEntity[]>;
  /** A circuit's recent claims, loaded together for the circuits of a response. */
  claimsOf: (circuitId: number) => Promise<RecentClaims>;
  /** The timestamp of the newest chain head the indexer has seen; null before it has read any block. */
  headTime: () => Promise<number | null>;
  reads: ReadSet;
}

/** Sent through a jobStatus stream when the job is no longer in the database; resolved to an error event. */
const REORGED_OUT = Symbol("reorged out");

/**
 * `jobStatus(id)`: the job as it stands now, then after every indexed change, completing with the change that makes
 * it final (at once, for a job already final). An id that is not a job's is refused before the stream starts, which a
 * client sees as one error event and the end of the stream.
 */
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
function afterJob(cursor: { postedAt: number; id: string }, direction: "asc" | "desc", alias: string) {
  const [upTo, beyond] = (direction === "desc" ? ["<=", "<"] : [">=", ">"]).map(raw);
  const [postedAt, id] = [raw(columnOf(alias, "postedAt")), raw(columnOf(alias, "id"))];
  return sql`${postedAt} ${upTo} ${cursor.postedAt} AND (${postedAt} ${beyond} ${cursor.postedAt} OR ${id} ${beyond} ${cursor.id})`;
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

/** A root field of The Graph's shape: its `block` argument is checked before it reads (theGraphLists.ts). */
function atIndexedBlock<A extends BlockArgs>(resolve: (a: A, ctx: Context, info: GraphQLResolveInfo) => unknown) {
  return async (_: unknown, a: A, ctx: Context, info: GraphQLResolveInfo) => {
    await checkBlock(ctx.db, a.block);
    return resolve(a, ctx, info);
  };
}

/** One page of a table's entities in SQL; any job's change may enter, leave or move it, so it is kept until one. */
async function sqlPage(entity: "Job" | "JobEvent" | "Prover", a: ListArgs, ctx: Context, info: GraphQLResolveInfo) {
  ctx.reads.allJobs = true;
  const columns = selectedColumns(entity, info);
  return pageRows(ctx.db, ctx.model, await ctx.dialect(), entity, a, columns, circuitIdsMeeting(ctx));
}

export const resolvers = {
  BigInt: BigIntScalar,
  Bytes: BytesScalar,
  Query: {
    // The Graph's shape (theGraphLists.ts): one entity by id, and lists with skip, first, orderBy, where.
    job: atIndexedBlock((a: ByIdArgs, { db, reads }) => {
      reads.job(a.id);
      return db.job.findUnique({ where: { id: a.id } });
    }),
    jobs: atIndexedBlock((a: ListArgs & BlockArgs, ctx, info) => sqlPage("Job", a, ctx, info)),
    jobEvent: atIndexedBlock(async (a: ByIdArgs, { db, reads }) => {
      const event = await db.jobEvent.findUnique({ where: { id: a.id } });
      // An event not there yet may come with any job's next change.
      if (event === null) reads.allJobs = true;
      else reads.job(event.jobId);
      return event;
    }),
    jobEvents: atIndexedBlock((a: ListArgs & BlockArgs, ctx, info) => sqlPage("JobEvent", a, ctx, info)),
    prover: atIndexedBlock((a: ByIdArgs, { db, reads }) => {
      reads.provers = true;
      return db.prover.findUnique({ where: { address: a.id.toLowerCase() } });
    }),
    provers: atIndexedBlock((a: ListArgs & BlockArgs, ctx, info) => {
      ctx.reads.provers = true;
      return sqlPage("Prover", a, ctx, info);
    }),
    circuit: atIndexedBlock(async (a: ByIdArgs, ctx) => (await ctx.circuits()).find((c) => c.id === a.id) ?? null),
    circuits: atIndexedBlock(async (a: ListArgs & BlockArgs, ctx) =>
      pageInMemory(ctx.model, "Circuit", await withRecentPrices(await ctx.circuits(), ctx), a),
    ),
    marketStats: atIndexedBlock((a: ByIdArgs, { db, reads }) => {
      if (a.id !== MARKET_STATS_ID) return null;
      reads.allJobs = true;
      return marketStatsEntity(db);
    }),
    marketStats_collection: atIndexedBlock(async (a: ListArgs & BlockArgs, ctx) => {
      ctx.reads.allJobs = true;
      return pageInMemory(ctx.model, "MarketStats", [await marketStatsEntity(ctx.db)], a);
    }),
    _meta: atIndexedBlock(async (a: BlockArgs, { db, reads }) => {
      // The head moves without a market event (a commit that reports no change): never kept.
      reads.clock = true;
      const head = await indexedHead(db);
      if (head === null) return null;
      const { deployment, ...block } = head;
      return {
        block: a.block?.number !== undefined && a.block?.number !== null ? { ...block, hash: null } : block,
        deployment,
        hasIndexingErrors: false,
      };
    }),

    // The coordinator's own: lists by cursor.
    jobsPage: async (
      _: unknown,
      a: { where?: JobFilter; first?: number; after?: string; orderBy?: string },
      { db, reads }: Context,
      info: GraphQLResolveInfo,
    ) => {
      const size = pageSize(a.first);
      const circuitId = a.where?.circuitId;
      if (circuitId && !/^\d{1,9}$/.test(circuitId))
        throw new GraphQLError(
          `where.circuitId: ${JSON.stringify(circuitId)} is not a circuit's id; ids are whole numbers, like "1" (see circuits { id name })`,
          { extensions: { code: "BAD_USER_INPUT" } },
        );
      const direction = a.orderBy === "POSTED_AT_ASC" ? "asc" : "desc";
      const cursor = a.after ? jobCursor(a.after) : null;
      // The columns the nodes ask for, and the cursor's; the order is an index's (each ends with postedAt, id).
      const columns = [...new Set([...selectedColumns("Job", info, ["nodes"]), "postedAt"])];
      const order = raw(direction === "desc" ? "DESC" : "ASC");
      const rows = await sqlReaderOf(db).rows<{ id: string; postedAt: number }>(
        sql`SELECT ${raw(selectList("t", columns))} FROM "Job" t WHERE ${jobWhere(a.where ?? {}, "t")}${
          cursor ? sql` AND ${afterJob(cursor, direction, "t")}` : sql``
        } ORDER BY t."postedAt" ${order}, t."id" ${order} LIMIT ${size + 1}`,
      );
      reads.jobsPage(a.where ?? {}, direction, cursor?.postedAt ?? null, rows, size);
      return page(rows, size, (r) => `${r.postedAt}:${r.id}`);
    },
    proversPage: async (_: unknown, a: { first?: number; after?: string }, { db, reads }: Context) => {
      reads.provers = true;
      const size = pageSize(a.first);
      const rows = await db.prover.findMany({
        orderBy: [{ jobsProved: "desc" }, { address: "asc" }],
        take: size + 1,
        ...(a.after ? { cursor: { address: decodeCursor(a.after, ADDRESS_CURSOR) }, skip: 1 } : {}),
      });
      return page(rows, size, (r) => r.address);
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
    circuit: async (job: { circuitId: number }, _: unknown, ctx: Context) =>
      (await ctx.circuits()).find((c) => c.id === String(job.circuitId)),
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
    events: async (job: { id: string }, a: ListArgs, ctx: Context, info: GraphQLResolveInfo) => {
      ctx.reads.job(job.id);
      const { first, skip } = pageRange(a.first, a.skip);
      // The common case, a job's history in chain order, is loaded with every other job's of the response.
      if (!a.orderBy && (a.where === undefined || a.where === null))
        return (await ctx.eventsOf(job.id)).slice(skip, skip + first);
      return pageRows(
        ctx.db,
        ctx.model,
        await ctx.dialect(),
        "JobEvent",
        a,
        selectedColumns("JobEvent", info),
        circuitIdsMeeting(ctx),
        (alias) => sql`${raw(columnOf(alias, "jobId"))} = ${job.id}`,
      );
    },
  },
  JobEvent: {
    job: (e: { jobId: string }, _: unknown, { db, reads }: Context) => {
      reads.job(e.jobId);
      return db.job.findUnique({ where: { id: e.jobId } });
    },
    outputs: (e: { outputs: string | null }) => (e.outputs === null ? null : JSON.parse(e.outputs)),
  },
  Prover: {
    id: (p: { address: string }) => p.address,
  },
  // A circuit's recent prices, read only when asked for (a job's circuit name does not read its claims).
  Circuit: {
    recentLockedPrices: async (c: CircuitEntity, _: unknown, ctx: Context) =>
      c.recentLockedPrices ?? (await withRecentPrices([c], ctx))[0].recentLockedPrices,
    medianLockedPrice: async (c: CircuitEntity, _: unknown, ctx: Context) =>
      c.medianLockedPrice !== undefined ? c.medianLockedPrice : (await withRecentPrices([c], ctx))[0].medianLockedPrice,
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
