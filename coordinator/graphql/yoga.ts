/**
 * The GraphQL endpoint (graphql-yoga): the schema in schema.graphql, depth-limited queries, capped pages, and
 * masked errors (a resolver's unexpected failure reaches the client as "Unexpected error." with no internals;
 * errors meant for the client carry `extensions.code`). Subscriptions are server-sent events fed by `jobChanges`
 * (the indexer publishes the jobs each range changed). GraphiQL is served outside production, from the page
 * @graphql-yoga/render-graphiql renders with its scripts, styles, fonts and editor workers inline: it loads
 * nothing from another host, so it works on a machine without network.
 */
import { readFileSync } from "node:fs";
import {
  type DocumentNode,
  type ExecutionResult,
  getOperationAST,
  GraphQLError,
  type GraphQLSchema,
  parse,
  validate,
} from "graphql";
import { renderGraphiQL } from "@graphql-yoga/render-graphiql";
import { createSchema, createYoga, type Plugin } from "graphql-yoga";
import type { Db } from "../db/client.ts";
import { createBatchLoader } from "./batchLoader.ts";
import { keptByTextLength } from "../recentlyUsed.ts";
import { directExecutor } from "./directExecutor.ts";
import { deriveQueryApi } from "./graphNodeApi.ts";
import { MAX_FIRST } from "./theGraphFilter.ts";
import { detectDialect, entityModel } from "./theGraphLists.ts";
import { costLimit } from "./costLimit.ts";
import { depthLimit } from "./depthLimit.ts";
import { JobChangeFeed } from "./jobChangeFeed.ts";
import { repeatLimit } from "./repeatLimit.ts";
import { EXAMPLE_QUERY } from "./exampleQuery.ts";
import { ReadSet } from "./reads.ts";
import { type Context, type JobEventRow, loadCircuits, loadRecentClaims, MAX_PAGE, resolvers } from "./resolvers.ts";

export const MAX_DEPTH = 8;
/** About a hundred jobs with their circuits and histories; see costLimit.ts for how a query is priced. */
export const MAX_COST = 5_000;
/** What one `marketStats` costs: it counts and sums every job by status (551 ms for a thousand of them, issue #16);
 *  priced as a page of jobs, so that a query may still ask for a page with histories and the totals beside it. */
export const MARKET_STATS_COST = 100;
/** What a list filtered, sorted or skipped on any field costs on top of its items (it may scan its table). */
export const SCAN_COST = 100;
/** The Graph's lists: 100 items when `first` is left out, 1,000 at most (theGraphFilter.ts). */
const GRAPH_LIST = { default: 100, max: MAX_FIRST };
/** The cursor lists: 20 and 100. */
const CURSOR_LIST = { default: 20, max: MAX_PAGE };
const COST_MODEL = {
  paged: {
    jobs: GRAPH_LIST,
    jobEvents: GRAPH_LIST,
    provers: GRAPH_LIST,
    circuits: GRAPH_LIST,
    marketStats_collection: GRAPH_LIST,
    jobsPage: CURSOR_LIST,
    proversPage: CURSOR_LIST,
    // A job's history: a few events per attempt, unless `first` asks for more room.
    events: { default: 10, max: MAX_FIRST },
  },
  listEstimate: {},
  // An aggregate over every job (counts and sums by status): priced as the rows it reads, a few hundred at least.
  fieldCost: { marketStats: MARKET_STATS_COST, marketStats_collection: MARKET_STATS_COST },
  // A list filtered, sorted or skipped on any field may scan its table: priced as the market totals are.
  // A job's history filtered or sorted is one more statement per job, over its own events (an index range).
  scanCost: { jobs: SCAN_COST, jobEvents: SCAN_COST, provers: SCAN_COST, events: 10 },
};
/**
 * What sits under `__schema` and `__type` has its own budget (depthLimit.ts, costLimit.ts). The standard
 * introspection query (graphql's getIntrospectionQuery, every option on) is 15 deep and costs about 505,000 with
 * these estimates, whatever the schema's size; the budgets leave room for a client that asks a little more, and
 * refuse what nests the schema's lists in each other or repeats them (graphql's own MaxIntrospectionDepthRule
 * also refuses lists of fields nested three deep).
 */
export const INTROSPECTION_MAX_DEPTH = 20;
export const INTROSPECTION_MAX_COST = 750_000;
const INTROSPECTION_LISTS = {
  types: 100,
  fields: 20,
  args: 5,
  inputFields: 10,
  interfaces: 5,
  possibleTypes: 10,
  enumValues: 10,
  directives: 10,
  locations: 10,
};

export interface GraphQLOptions {
  maxDepth?: number;
  maxCost?: number;
  /** The jobs each indexed range changed, for the subscriptions. */
  jobChanges?: JobChangeFeed;
}

/**
 * Marks the request's reads as answered when its operation is a query answered without errors: only then may the
 * response cache keep it (never a mutation, a subscription or an error).
 */
const markAnsweredQueries: Plugin = {
  onExecute({ args }) {
    const operation = getOperationAST(args.document as DocumentNode, args.operationName ?? undefined);
    if (operation?.operation !== "query") return;
    return {
      onExecuteDone({ result }) {
        if (Symbol.asyncIterator in (result as object)) return;
        if ((result as ExecutionResult).errors === undefined)
          (args.contextValue as unknown as Context).reads.answered = true;
      },
    };
  },
};

/** A function that runs once and then returns its first answer. */
function once<T>(load: () => Promise<T>): () => Promise<T> {
  let answer: Promise<T> | undefined;
  return () => (answer ??= load());
}

/**
 * The timestamp of the newest chain head the indexer has seen (kept with its checkpoint); before the indexer kept it,
 * that of the newest block it indexed; null before it has read any block.
 */
async function headTime(db: Db): Promise<number | null> {
  const checkpoint = await db.indexerCheckpoint.findUnique({ where: { id: 1 } });
  if (checkpoint === null) return null;
  if (checkpoint.headTimestamp !== null) return checkpoint.headTimestamp;
  return (await db.indexedBlock.findUnique({ where: { number: checkpoint.lastBlock } }))?.timestamp ?? null;
}

/**
 * headTime, read once for all the jobs a response prices, and again for each message of a subscription (a batch is
 * one tick): never longer, since the head moves.
 */
function createHeadTimeLoader(db: Db): () => Promise<number | null> {
  const load = createBatchLoader<"head", number | null>(async () => new Map([["head", await headTime(db)]]), null);
  return () => load("head");
}

/** schema.graphql as written: the coordinator's entities and its own additions. */
export const schemaSource = () => readFileSync(new URL("./schema.graphql", import.meta.url), "utf8");

/** The whole schema the coordinator serves: schema.graphql and the query API graph-node derives from its entities. */
export const coordinatorTypeDefs = () => deriveQueryApi(schemaSource());

export function createGraphQL(
  db: Db,
  { maxDepth = MAX_DEPTH, maxCost = MAX_COST, jobChanges = new JobChangeFeed() }: GraphQLOptions = {},
) {
  // The schema: the coordinator's types, and the query API graph-node derives from its entities (graphNodeApi.ts).
  const source = schemaSource();
  const schema = createSchema<Context>({ typeDefs: deriveQueryApi(source), resolvers });
  const model = entityModel(parse(source));
  const dialect = once(() => detectDialect(db));
  const limits = [
    repeatLimit(),
    depthLimit(maxDepth, INTROSPECTION_MAX_DEPTH),
    costLimit(maxCost, COST_MODEL, { max: INTROSPECTION_MAX_COST, listEstimate: INTROSPECTION_LISTS }),
  ];
  /** The context of one request: its loaders, and the ReadSet it records its reads in. */
  const contextFor = (reads: ReadSet): Context => {
    const context = {
      db,
      reads,
      jobChanges,
      model,
      dialect,
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
      circuits: once(() => loadCircuits(db, context.reads)),
      claimsOf: createBatchLoader((circuitIds: number[]) => loadRecentClaims(db, circuitIds), {
        prices: [],
        newestBlock: null,
      }),
      headTime: createHeadTimeLoader(db),
    } as Context;
    return context;
  };
  // What the limits say of a document, once per parsed document: yoga's parser cache hands the same document to every
  // request with its text, and the direct executor keeps its own.
  const limitErrors = new WeakMap<DocumentNode, readonly GraphQLError[]>();
  const refusedByLimits = (document: DocumentNode): readonly GraphQLError[] => {
    let refused = limitErrors.get(document);
    if (refused === undefined) {
      refused = validate(schema, document, limits);
      limitErrors.set(document, refused);
    }
    return refused;
  };
  const yogaDocuments = yogaParseCache<DocumentNode>();
  const yoga = createYoga<{ reads?: ReadSet }>({
    schema: schema as never,
    graphqlEndpoint: "/graphql",
    graphiql: process.env.NODE_ENV !== "production" && { title: "ProofMarket GraphiQL", defaultQuery: EXAMPLE_QUERY },
    renderGraphiQL,
    parserAndValidationCache: { documentCache: yogaDocuments, errorCache: yogaParseCache() },
    // The response cache (httpHandler.ts) passes the ReadSet it will keep the answer with.
    context: ({ reads }): Context => contextFor(reads ?? new ReadSet()),

    plugins: [
      {
        // The limits first, alone: a document they refuse gets their errors and no other validation, so that what
        // graphql's own rules would spend on it (comparing a thousand repeats of one field pairwise, then answering
        // "Validation aborted.") is never spent, and the client reads what to change.
        onValidate: ({ params, setResult }: { params: any; setResult: (errors: readonly unknown[]) => void }) => {
          const refused = refusedByLimits(params.documentAST);
          if (refused.length > 0) return setResult(refused);
          // Repeats the limits do not see (through fragments) can still exhaust graphql's check of repeated fields,
          // which then answers only "Validation aborted.": said here in words a client can act on.
          return ({
            result,
            setResult: replace,
          }: {
            result: readonly unknown[];
            setResult: (e: unknown[]) => void;
          }) => {
            if (result.some((e) => (e as Error).message === "Validation aborted."))
              replace([
                new GraphQLError(
                  "the query repeats fields too often to be checked (graphql's check that repeated fields can be " +
                    "merged gave up): ask for each field once per selection and spread each fragment once",
                  { extensions: { code: "REPEATED_FIELD" } },
                ),
              ]);
          };
        },
      },
      markAnsweredQueries,
    ],
  });
  const direct = directExecutor(schema as unknown as GraphQLSchema, refusedByLimits, contextFor);
  return Object.assign(yoga, direct, {
    yogaKeptDocuments: () => ({ count: yogaDocuments.size, textLength: yogaDocuments.calculatedSize }),
  });
}

/**
 * yoga's own parse cache (documents, and parse errors, which hold their text) as yoga's default, but kept by the length
 * of their texts as well as their number: yoga keeps any text that parses, with locations, and a syntax tree is 100
 * to 250 times its text, so a thousand texts of 100 KB, the largest body the endpoint reads, would have kept 8 GiB
 * or more. This keeps it under about 16 MiB; a client's queries are a few hundred characters each, so hundreds fit.
 */
export const YOGA_KEPT_DOCUMENT_TEXT = 64 << 10;
const yogaParseCache = <T extends object>() => keptByTextLength<T>(1024, YOGA_KEPT_DOCUMENT_TEXT, 3_600_000);
