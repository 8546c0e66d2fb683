/**
 * The GraphQL endpoint (graphql-yoga): the schema in schema.graphql, depth-limited queries, capped pages, and
 * masked errors (a resolver's unexpected failure reaches the client as "Unexpected error." with no internals;
 * errors meant for the client carry `extensions.code`). Subscriptions are server-sent events fed by `pubsub`
 * (the indexer publishes the jobs each range changed). GraphiQL is served outside production.
 */
import { readFileSync } from "node:fs";
import { createSchema, createYoga } from "graphql-yoga";
import type { Db } from "../db/client.ts";
import { createBatchLoader } from "./batchLoader.ts";
import { costLimit } from "./costLimit.ts";
import { depthLimit } from "./depthLimit.ts";
import type { ResponseCache } from "./responseCache.ts";
import { type Context, createJobsPubSub, type JobEventRow, type JobsPubSub, MAX_PAGE, resolvers } from "./resolvers.ts";

export const MAX_DEPTH = 8;
/** About a hundred jobs with their circuits and histories; see costLimit.ts for how a query is priced. */
export const MAX_COST = 5_000;
const COST_MODEL = {
  pagedDefault: { jobs: 20, provers: 20 },
  maxPage: MAX_PAGE,
  listEstimate: { events: 10, circuits: 50 },
};

export interface GraphQLOptions {
  maxDepth?: number;
  maxCost?: number;
  pubsub?: JobsPubSub;
  /** Keeps query answers between the indexer's commits (the coordinator process invalidates it on each). */
  responseCache?: ResponseCache;
}

export function createGraphQL(
  db: Db,
  { maxDepth = MAX_DEPTH, maxCost = MAX_COST, pubsub = createJobsPubSub(), responseCache }: GraphQLOptions = {},
) {
  const schema = createSchema<Context>({
    typeDefs: readFileSync(new URL("./schema.graphql", import.meta.url), "utf8"),
    resolvers,
  });
  return createYoga({
    schema: schema as never,
    graphqlEndpoint: "/graphql",
    graphiql: process.env.NODE_ENV !== "production",
    context: (): Context => ({
      db,
      circuits: new Map(),
      pubsub,
      // One query for the histories of every job on the page.
      eventsOf: createBatchLoader(async (jobIds: string[]) => {
        const rows = await db.jobEvent.findMany({
          where: { jobId: { in: jobIds } },
          orderBy: [{ blockNumber: "asc" }, { logIndex: "asc" }],
        });
        const byJob = new Map<string, JobEventRow[]>();
        for (const row of rows) byJob.set(row.jobId, [...(byJob.get(row.jobId) ?? []), row]);
        return byJob;
      }, []),
    }),
    plugins: [
      {
        onValidate: ({ addValidationRule }: { addValidationRule: (rule: ReturnType<typeof depthLimit>) => void }) => {
          addValidationRule(depthLimit(maxDepth));
          addValidationRule(costLimit(maxCost, COST_MODEL));
        },
      },
      ...(responseCache ? [responseCache.plugin] : []),
    ],
  });
}
