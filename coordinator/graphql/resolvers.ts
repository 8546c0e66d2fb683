/**
 * Resolvers over the coordinator's database. A circuit is read once per request however many jobs name it.
 */
import { GraphQLError } from "graphql";
import { createPubSub, filter, map, pipe, type PubSub } from "graphql-yoga";
import type { Db } from "../db/client.ts";

export const MAX_PAGE = 100;

export interface Context {
  db: Db;
  circuits: Map<number, Promise<unknown>>;
  pubsub: JobsPubSub;
}

/** Job ids the indexer reports changed, to the subscriptions. */
export type JobsPubSub = PubSub<{ jobChanged: [jobId: string] }>;

export function createJobsPubSub(): JobsPubSub {
  return createPubSub<{ jobChanged: [jobId: string] }>();
}

function pageSize(first: number | null | undefined): number {
  const n = first ?? 20;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PAGE) {
    throw new GraphQLError(`first must be between 1 and ${MAX_PAGE}, got ${n}`, {
      extensions: { code: "BAD_USER_INPUT" },
    });
  }
  return n;
}

const encodeCursor = (id: string) => Buffer.from(id).toString("base64url");
function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, "base64url").toString();
  if (id === "" || !/^[0-9a-zA-Zx]+$/.test(id))
    throw new GraphQLError("after: not a cursor from this API", { extensions: { code: "BAD_USER_INPUT" } });
  return id;
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

interface JobFilter {
  status?: string;
  circuitId?: string;
  requester?: string;
  prover?: string;
  postedAfter?: number;
  postedBefore?: number;
}

function jobWhere(f: JobFilter = {}) {
  return {
    ...(f.status ? { status: f.status } : {}),
    ...(f.circuitId ? { circuitId: Number(f.circuitId) } : {}),
    ...(f.requester ? { requester: f.requester } : {}),
    ...(f.prover ? { assignee: f.prover } : {}),
    ...(f.postedAfter !== undefined || f.postedBefore !== undefined
      ? {
          postedAt: {
            ...(f.postedAfter !== undefined ? { gt: f.postedAfter } : {}),
            ...(f.postedBefore !== undefined ? { lt: f.postedBefore } : {}),
          },
        }
      : {}),
  };
}

export const resolvers = {
  Query: {
    job: (_: unknown, { id }: { id: string }, { db }: Context) => db.job.findUnique({ where: { id } }),
    jobs: async (
      _: unknown,
      a: { where?: JobFilter; first?: number; after?: string; orderBy?: string },
      { db }: Context,
    ) => {
      const size = pageSize(a.first);
      const direction = a.orderBy === "POSTED_AT_ASC" ? "asc" : "desc";
      const rows = await db.job.findMany({
        where: jobWhere(a.where),
        orderBy: [{ postedAt: direction }, { id: direction }],
        take: size + 1,
        ...(a.after ? { cursor: { id: decodeCursor(a.after) }, skip: 1 } : {}),
      });
      return page(rows, size, (r) => r.id);
    },
    prover: (_: unknown, { address }: { address: string }, { db }: Context) =>
      db.prover.findUnique({ where: { address } }),
    provers: async (_: unknown, a: { first?: number; after?: string }, { db }: Context) => {
      const size = pageSize(a.first);
      const rows = await db.prover.findMany({
        orderBy: [{ jobsProved: "desc" }, { address: "asc" }],
        take: size + 1,
        ...(a.after ? { cursor: { address: decodeCursor(a.after) }, skip: 1 } : {}),
      });
      return page(rows, size, (r) => r.address);
    },
    circuit: (_: unknown, { id }: { id: string }, { db }: Context) =>
      db.circuit.findUnique({ where: { id: Number(id) } }),
    circuits: (_: unknown, __: unknown, { db }: Context) => db.circuit.findMany({ orderBy: { id: "asc" } }),
    marketStats: async (_: unknown, __: unknown, { db }: Context) => {
      const counts = await db.job.groupBy({ by: ["status"], _count: { _all: true } });
      const count = (s: string) => counts.find((c) => c.status === s)?._count._all ?? 0;
      const proved = await db.job.findMany({
        where: { status: "Proved" },
        select: { fee: true, postedAt: true, provedAt: true },
      });
      const times = proved.map((j) => (j.provedAt ?? j.postedAt) - j.postedAt).sort((x, y) => x - y);
      const slashes = await db.jobEvent.count({
        where: { OR: [{ kind: { in: ["Reassigned", "Abandoned"] } }, { kind: "Expired", prover: { not: null } }] },
      });
      return {
        open: count("Open"),
        claimed: count("Claimed"),
        proved: count("Proved"),
        cancelled: count("Cancelled"),
        expired: count("Expired"),
        feesPaid: proved.reduce((sum, j) => sum + BigInt(j.fee), 0n).toString(),
        slashes,
        medianTimeToProof: times.length > 0 ? times[Math.floor(times.length / 2)] : null,
      };
    },
  },
  Subscription: {
    jobStatus: {
      subscribe: (_: unknown, { id }: { id: string }, { db, pubsub }: Context) =>
        pipe(
          pubsub.subscribe("jobChanged"),
          filter((jobId: string) => jobId === id),
          map((jobId: string) => db.job.findUnique({ where: { id: jobId } })),
        ),
      resolve: (job: unknown) => job,
    },
    jobs: {
      subscribe: (_: unknown, a: { circuitId?: string; status?: string }, { db, pubsub }: Context) =>
        pipe(
          pubsub.subscribe("jobChanged"),
          map((jobId: string) => db.job.findUnique({ where: { id: jobId } })),
          filter(
            (job: { circuitId: number; status: string } | null) =>
              job !== null &&
              (a.circuitId === undefined || a.circuitId === null || String(job.circuitId) === a.circuitId) &&
              (a.status === undefined || a.status === null || job.status === a.status),
          ),
        ),
      resolve: (job: unknown) => job,
    },
  },
  Job: {
    circuit: (job: { circuitId: number }, _: unknown, { db, circuits }: Context) => {
      if (!circuits.has(job.circuitId))
        circuits.set(job.circuitId, db.circuit.findUnique({ where: { id: job.circuitId } }));
      return circuits.get(job.circuitId);
    },
    outputs: (job: { outputs: string | null }) => (job.outputs === null ? null : JSON.parse(job.outputs)),
    events: (job: { id: string }, _: unknown, { db }: Context) =>
      db.jobEvent.findMany({ where: { jobId: job.id }, orderBy: [{ blockNumber: "asc" }, { logIndex: "asc" }] }),
  },
  Circuit: {
    id: (c: { id: number }) => String(c.id),
  },
};
