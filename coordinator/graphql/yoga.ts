/**
 * The GraphQL endpoint (graphql-yoga): the schema in schema.graphql, depth-limited queries, capped pages, and
 * masked errors (a resolver's unexpected failure reaches the client as "Unexpected error." with no internals;
 * errors meant for the client carry `extensions.code`). Subscriptions are server-sent events fed by `pubsub`
 * (the indexer publishes the jobs each range changed). GraphiQL is served outside production.
 */
import { readFileSync } from "node:fs";
import { createSchema, createYoga } from "graphql-yoga";
import type { Db } from "../db/client.ts";
import { depthLimit } from "./depthLimit.ts";
import { type Context, createJobsPubSub, type JobsPubSub, resolvers } from "./resolvers.ts";

export const MAX_DEPTH = 8;

export function createGraphQL(
  db: Db,
  { maxDepth = MAX_DEPTH, pubsub = createJobsPubSub() }: { maxDepth?: number; pubsub?: JobsPubSub } = {},
) {
  const schema = createSchema<Context>({
    typeDefs: readFileSync(new URL("./schema.graphql", import.meta.url), "utf8"),
    resolvers,
  });
  return createYoga({
    schema: schema as never,
    graphqlEndpoint: "/graphql",
    graphiql: process.env.NODE_ENV !== "production",
    context: () => ({ db, circuits: new Map(), pubsub }),
    plugins: [
      {
        onValidate: ({ addValidationRule }: { addValidationRule: (rule: ReturnType<typeof depthLimit>) => void }) =>
          addValidationRule(depthLimit(maxDepth)),
      },
    ],
  });
}
