/**
 * The Graph's query shape on the coordinator: `job(id)`, `jobs(skip, first, orderBy, orderDirection, where)` and the
 * same for JobEvent, Prover, Circuit and MarketStats (`marketStats_collection`), `Job.events(...)`, the `block`
 * argument and `_meta`, as graph-node serves them for subgraph/schema.graphql (graphNodeApi.ts derives the schema).
 * Jobs, their events and provers are filtered, sorted and paged in SQL (theGraphSql.ts); circuits and the market's
 * totals, which the coordinator computes rather than stores, in memory by the same rules (theGraphFilter.ts).
 *
 * The coordinator keeps the current state only: a `block` argument is answered when it names the newest block it has
 * indexed (or, with `number_gte`, one at or below it), and refused otherwise with what to do.
 */
import { GraphQLError } from "graphql";
import { raw, sqltag as sql, type Sql } from "@prisma/client/runtime/client";
import { type Db, sqlReaderOf } from "../db/client.ts";
import { type Entity, entitiesOf } from "./graphNodeApi.ts";
import {
  type Condition,
  type EntityFields,
  type FieldKind,
  matches,
  pageRange,
  parseFilter,
  sortEntities,
} from "./theGraphFilter.ts";
import {
  columnOf,
  conditionSql,
  type Dialect,
  orderSql,
  selectList,
  startStatement,
  type TableSpec,
} from "./theGraphSql.ts";
import type { DocumentNode } from "graphql";

/** The kind of comparison each GraphQL type of an entity field gets. */
function fieldsOf(entity: Entity, entities: Set<string>, enums: Set<string>): EntityFields {
  const out: EntityFields = {};
  for (const f of entity.fields) {
    if (f.coordinatorOnly) continue;
    let kind: FieldKind;
    if (entities.has(f.base)) kind = f.derived || f.list ? "derived" : "ref";
    else if (f.list) kind = "list";
    else if (enums.has(f.base)) kind = "enum";
    else if (f.base === "BigInt") kind = "bigint";
    else if (f.base === "Int") kind = "int";
    else if (f.base === "Bytes") kind = "bytes";
    else kind = "text";
    out[f.name] = { kind, nonNull: f.nonNull, ...(entities.has(f.base) ? { entity: f.base } : {}) };
  }
  return out;
}

export interface EntityModel {
  fields: (entity: string) => EntityFields;
  table: (entity: string) => TableSpec;
}

const column = (name: string) => (alias: string) => columnOf(alias, name);

/** The entities of the coordinator's schema, their fields' kinds and the tables and columns behind them. */
export function entityModel(document: DocumentNode): EntityModel {
  const list = entitiesOf(document);
  const names = new Set(list.map((e) => e.name));
  const enums = new Set(
    document.definitions
      .filter((d) => d.kind === "EnumTypeDefinition")
      .map((d) => (d as { name: { value: string } }).name.value),
  );
  const fields = new Map(list.map((e) => [e.name, fieldsOf(e, names, enums)]));
  const columnsOf = (entity: string, renamed: Record<string, (alias: string) => string> = {}) =>
    Object.fromEntries(Object.keys(fields.get(entity)!).map((f) => [f, renamed[f] ?? column(f)])) as Record<
      string,
      (alias: string) => string
    >;
  const eventsSince = (condition: (alias: string, x: string) => string) => (alias: string, block: Sql) =>
    sql`EXISTS (SELECT 1 FROM "JobEvent" x WHERE ${raw(condition(alias, "x"))} AND x."blockNumber" >= ${block})`;
  const tables: Record<string, TableSpec> = {
    Job: {
      entity: "Job",
      table: "Job",
      fields: fields.get("Job")!,
      columns: columnsOf("Job", { circuit: (a) => `CAST(${a}."circuitId" AS TEXT)` }),
      joins: {
        circuit: (ours, theirs) => `${theirs}."id" = ${ours}."circuitId"`,
        events: (ours, theirs) => `${theirs}."jobId" = ${ours}."id"`,
      },
      // A job changes only by its events.
      changedSince: eventsSince((a, x) => `${x}."jobId" = ${a}."id"`),
    },
    JobEvent: {
      entity: "JobEvent",
      table: "JobEvent",
      fields: fields.get("JobEvent")!,
      columns: columnsOf("JobEvent", { job: column("jobId") }),
      joins: { job: (ours, theirs) => `${theirs}."id" = ${ours}."jobId"` },
      changedSince: (alias, block) => sql`${raw(`${alias}."blockNumber"`)} >= ${block}`,
    },
    Prover: {
      entity: "Prover",
      table: "Prover",
      fields: fields.get("Prover")!,
      columns: columnsOf("Prover", { id: column("address") }),
      // A prover changes by the job events that name it (claimed, proved, slashed) and by its staking events.
      changedSince: (alias, block) =>
        sql`(${eventsSince((a, x) => `${x}."prover" = ${a}."address"`)(
          alias,
          block,
        )} OR EXISTS (SELECT 1 FROM "StakeEvent" s WHERE s."prover" = ${raw(`${alias}."address"`)} AND s."blockNumber" >= ${block}))`,
    },
    // Circuits are listed in memory; this serves `orderBy: circuit__name` on jobs, over the stored columns.
    Circuit: {
      entity: "Circuit",
      table: "Circuit",
      fields: Object.fromEntries(
        Object.entries(fields.get("Circuit")!).filter(
          ([f]) => !["recentLockedPrices", "medianLockedPrice"].includes(f),
        ),
      ),
      columns: columnsOf("Circuit", { id: (a) => `CAST(${a}."id" AS TEXT)` }),
    },
  };
  return {
    fields: (entity) => fields.get(entity)!,
    table: (entity) => tables[entity],
  };
}

/** How the database compares text: byte-wise already (SQLite, a C-collated PostgreSQL), or with COLLATE "C". */
export async function detectDialect(db: Db): Promise<Dialect> {
  try {
    const rows = await db.$queryRawUnsafe<{ c: string }[]>(
      "SELECT datcollate AS c FROM pg_database WHERE datname = current_database()",
    );
    return { postgres: true, collateC: !/^(C|POSIX)(\.|$)/i.test(rows[0]?.c ?? "") };
  } catch {
    return { postgres: false, collateC: false };
  }
}

/** The newest block the coordinator has indexed, as `_meta` and the `block` argument see it. */
export interface IndexedHead {
  number: number;
  hash: string;
  timestamp: number | null;
  parentHash: string | null;
  deployment: string;
}

export async function indexedHead(db: Db): Promise<IndexedHead | null> {
  const checkpoint = await db.indexerCheckpoint.findUnique({ where: { id: 1 } });
  if (checkpoint === null) return null;
  const block = await db.indexedBlock.findUnique({ where: { number: checkpoint.lastBlock } });
  return {
    number: checkpoint.lastBlock,
    hash: checkpoint.lastHash.toLowerCase(),
    timestamp: block?.timestamp ?? null,
    parentHash: block?.parentHash.toLowerCase() ?? null,
    deployment: checkpoint.market.toLowerCase(),
  };
}

export interface BlockArgument {
  hash?: string | null;
  number?: number | null;
  number_gte?: number | null;
}

/**
 * Refuses a `block` argument the coordinator cannot answer at: it keeps the current state only, at its newest
 * indexed block. As graph-node does, `hash` wins over `number`, which wins over `number_gte`.
 */
export async function checkBlock(db: Db, block: BlockArgument | null | undefined): Promise<void> {
  if (block === null || block === undefined) return;
  const given = (v: unknown) => v !== null && v !== undefined;
  if (!given(block.hash) && !given(block.number) && !given(block.number_gte))
    throw new GraphQLError("block: give one of hash, number or number_gte", { extensions: { code: "BAD_USER_INPUT" } });
  const head = await indexedHead(db);
  const at = head === null ? "has not indexed any block yet" : `has indexed up to block number ${head.number}`;
  const refuse = (message: string) => {
    throw new GraphQLError(message, { extensions: { code: "BLOCK_NOT_AVAILABLE" } });
  };
  if (given(block.hash)) {
    if (head === null || String(block.hash).toLowerCase() !== head.hash)
      refuse(
        `block.hash: the coordinator keeps the current state only and ${at}${head ? ` (hash ${head.hash})` : ""}: ` +
          "ask without `block`, or ask a subgraph for the state at an older block",
      );
  } else if (given(block.number)) {
    if (head === null || block.number! > head.number)
      refuse(`block.number: the coordinator ${at}, and data for block number ${block.number} is not yet available`);
    else if (block.number! < head.number)
      refuse(
        `block.number: the coordinator keeps the current state only, at block ${head.number}: ask without \`block\` ` +
          `(or with number_gte), or ask a subgraph for the state at block ${block.number}`,
      );
  } else if (head === null || block.number_gte! > head.number) {
    refuse(
      `block.number_gte: the coordinator ${at}, and data for block number ${block.number_gte} is not yet available`,
    );
  }
}

export interface ListArgs {
  skip?: number | null;
  first?: number | null;
  orderBy?: string | null;
  orderDirection?: string | null;
  where?: Record<string, unknown> | null;
}

/**
 * Replaces each filter on a job's circuit (`circuit_`) by the ids of the circuits that meet it: circuits are
 * computed in memory (their recent prices), not a table SQL can filter on.
 */
async function resolveCircuitFilters(
  condition: Condition,
  circuitIds: (filter: Condition) => Promise<string[]>,
): Promise<Condition> {
  if ("all" in condition)
    return { all: await Promise.all(condition.all.map((c) => resolveCircuitFilters(c, circuitIds))) };
  if ("any" in condition)
    return { any: await Promise.all(condition.any.map((c) => resolveCircuitFilters(c, circuitIds))) };
  if ("child" in condition && condition.entity === "Circuit")
    return { field: condition.child, kind: "ref", op: "in", value: await circuitIds(condition.filter) };
  return condition;
}

/**
 * One page of an entity's rows in SQL, in one statement: the filter (and `extra`, the condition a nested list adds),
 * the order and the range. The rows hold the table's `columns` (selectedColumns.ts), read by the database's SQL
 * reader (the same values on SQLite and PostgreSQL, and as Prisma reads them).
 */
export async function pageRows<Row>(
  db: Db,
  model: EntityModel,
  dialect: Dialect,
  entity: string,
  args: ListArgs,
  columns: string[],
  circuitIds: (filter: Condition) => Promise<string[]>,
  extra?: (alias: string) => Sql,
): Promise<Row[]> {
  const { first, skip } = pageRange(args.first, args.skip);
  const spec = model.table(entity);
  const condition = await resolveCircuitFilters(parseFilter(entity, args.where, model.fields), circuitIds);
  const alias = "t";
  startStatement(); // (what follows, to the statement, runs without yielding)
  const where = conditionSql(condition, spec, alias, model.table, dialect);
  const order = orderSql(spec, alias, model.table, dialect, args.orderBy, args.orderDirection);
  return sqlReaderOf(db).rows<Row>(
    sql`SELECT ${raw(selectList(alias, columns))} FROM ${raw(`"${spec.table}" ${alias}`)} WHERE ${where}${
      extra ? sql` AND ${extra(alias)}` : sql``
    } ORDER BY ${order} LIMIT ${first} OFFSET ${skip}`,
  );
}

/** A page of entities computed in memory, filtered, sorted and ranged as graph-node would the same rows. */
export function pageInMemory<T extends Record<string, unknown>>(
  model: EntityModel,
  entity: string,
  rows: T[],
  args: ListArgs,
): T[] {
  const { first, skip } = pageRange(args.first, args.skip);
  const condition = parseFilter(entity, args.where, model.fields);
  const kept = rows.filter((row) => {
    const m = matches(condition, row);
    if (m === null)
      throw new GraphQLError(`where: ${entity} has no child entities to filter on`, {
        extensions: { code: "BAD_USER_INPUT" },
      });
    return m;
  });
  return sortEntities(kept, entity, model.fields(entity), args.orderBy, args.orderDirection).slice(skip, skip + first);
}
