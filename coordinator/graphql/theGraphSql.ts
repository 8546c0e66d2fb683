/**
 * The Graph's filters and orders (theGraphFilter.ts) in SQL over the coordinator's tables, for SQLite and PostgreSQL
 * alike: amounts are decimal text without leading zeros, so they compare by length and then as text (numerically,
 * as graph-node's `numeric` columns do); text compares byte-wise, as graph-node's C-collated database does.
 */
import { join, raw, type Sql, sqltag as sql } from "@prisma/client/runtime/client";
import type { Condition, EntityFields, FieldKind } from "./theGraphFilter.ts";
import { foldAscii, ORDERABLE, refuseOrder } from "./theGraphFilter.ts";

/** A column of the table behind `alias`, quoted as both databases take it. */
export const columnOf = (alias: string, name: string) => `${alias}."${name}"`;

/** The select list of `columns` over `alias`. */
export const selectList = (alias: string, columns: string[]) => columns.map((c) => columnOf(alias, c)).join(", ");

/** A table's columns behind an entity's fields. */
export interface TableSpec {
  entity: string;
  table: string;
  /** The SQL expression of each field over the table's alias (columns quoted), by GraphQL field name. */
  columns: Record<string, (alias: string) => string>;
  fields: EntityFields;
  /** How a child filter on a reference or derived field joins: the condition tying the child's alias to ours. */
  joins?: Record<string, (ours: string, theirs: string) => string>;
  /**
   * Rows of this table written at or after a block (for `_change_block`), as a condition over our alias; absent for
   * a table whose entities are filtered in memory (circuits: their `_change_block` is theGraphFilter.ts CHANGED_AT).
   */
  changedSince?: (alias: string, block: Sql) => Sql;
}

export interface Dialect {
  /** Whether text needs COLLATE "C" to compare byte-wise (a PostgreSQL database whose collation is not C). */
  collateC: boolean;
  postgres: boolean;
}

const TRUE = raw("1 = 1");
const FALSE = raw("1 = 0");

const text = (expr: string, dialect: Dialect) => raw(dialect.collateC ? `${expr} COLLATE "C"` : expr);
/** Lowercase ASCII letters only, as graph-node's ILIKE under a C ctype (SQLite's lower() does no more). */
const lowerAscii = (expr: string, dialect: Dialect) =>
  dialect.postgres ? `lower(${expr} COLLATE "C")` : `lower(${expr})`;
const position = (haystack: string, dialect: Dialect, needle: Sql) =>
  dialect.postgres ? sql`strpos(${raw(haystack)}, ${needle})` : sql`instr(${raw(haystack)}, ${needle})`;

/** A decimal amount as stored (no leading zeros), or null for a negative one, which no amount is. */
const canonical = (v: unknown) => {
  const n = BigInt(v as string);
  return n < 0n ? null : n.toString();
};

function amountCompare(expr: string, op: string, value: unknown, dialect: Dialect): Sql {
  const v = canonical(value);
  if (v === null) return op === "gt" || op === "gte" ? raw(`${expr} IS NOT NULL`) : FALSE;
  const e = raw(expr);
  const t = text(expr, dialect);
  const strict = { gt: ">", lt: "<", gte: ">", lte: "<" }[op]!;
  const same = { gt: ">", lt: "<", gte: ">=", lte: "<=" }[op]!;
  return sql`(length(${e}) ${raw(strict)} ${v.length} OR (length(${e}) = ${v.length} AND ${t} ${raw(same)} ${v}))`;
}

/** A value as the column stores it: amounts canonical, Bytes lowercase hex, lists as their JSON text. */
function stored(kind: FieldKind, value: unknown): unknown {
  if (kind === "bigint") return canonical(value) ?? "-";
  if (kind === "list") return JSON.stringify((value as unknown[]).map(String));
  return value;
}

function fieldCondition(expr: string, kind: FieldKind, op: string, value: unknown, dialect: Dialect): Sql {
  const e = raw(expr);
  if (op === "" || op === "not") {
    if (value === null) return raw(`${expr} IS ${op === "" ? "" : "NOT "}NULL`);
    return sql`${e} ${raw(op === "" ? "=" : "<>")} ${stored(kind, value)}`;
  }
  if (op === "in" || op === "not_in") {
    const values = value as unknown[];
    if (values.length === 0) return FALSE; // graph-node: an empty list matches nothing, negated or not
    return sql`${e} ${raw(op === "in" ? "IN" : "NOT IN")} (${join(values.map((v) => stored(kind, v)))})`;
  }
  if (["gt", "lt", "gte", "lte"].includes(op)) {
    if (kind === "bigint") return amountCompare(expr, op, value, dialect);
    const symbol = { gt: ">", lt: "<", gte: ">=", lte: "<=" }[op]!;
    return sql`${kind === "int" ? e : text(expr, dialect)} ${raw(symbol)} ${value}`;
  }
  if (kind === "list") {
    const items = (value as unknown[]).map((v) => JSON.stringify(String(v)));
    if (op === "contains" || op === "not_contains") {
      const found = (item: string) => sql`${position(expr, dialect, sql`${item}`)} > 0`;
      // graph-node: `@> ARRAY[]` and `NOT && ARRAY[]` hold for every list that is not null
      if (items.length === 0) return raw(`${expr} IS NOT NULL`);
      return op === "contains"
        ? sql`(${join(items.map(found), " AND ")})`
        : sql`(${e} IS NOT NULL AND NOT (${join(items.map(found), " OR ")}))`;
    }
    // _contains_nocase: an element equal to one of the values, whatever the case (graph-node: ILIKE ANY, unwrapped)
    const lowered = lowerAscii(expr, dialect);
    const any =
      items.length === 0
        ? FALSE
        : sql`(${join(
            items.map((i) => sql`${position(lowered, dialect, sql`${foldAscii(i)}`)} > 0`),
            " OR ",
          )})`;
    // graph-node's NOT EXISTS over the elements: a null list has none, so it passes.
    return op === "contains_nocase" ? any : sql`(${e} IS NULL OR NOT ${any})`;
  }
  // Bytes contain bytes: compared decoded (graph-node: position in bytea), never half a byte off.
  if (kind === "bytes") {
    const bytes = (hex: Sql) => (dialect.postgres ? sql`decode(${hex}, 'hex')` : sql`unhex(${hex})`);
    const found = dialect.postgres
      ? sql`position(${bytes(sql`${String(value).slice(2)}`)} in ${bytes(raw(`substr(${expr}, 3)`))}) > 0`
      : sql`instr(${bytes(raw(`substr(${expr}, 3)`))}, ${bytes(sql`${String(value).slice(2)}`)}) > 0`;
    return op === "contains" ? found : sql`(${e} IS NOT NULL AND NOT ${found})`;
  }
  // contains, starts_with, ends_with, their negations and _nocase forms (text and references)
  const nocase = op.endsWith("_nocase");
  const base = op.replace(/_nocase$/, "");
  const negated = base.startsWith("not_");
  const test = base.replace(/^not_/, "");
  const subject = nocase ? lowerAscii(expr, dialect) : expr;
  const needle = nocase ? foldAscii(value) : String(value);
  const n = needle.length;
  let hit: Sql;
  if (test === "contains") hit = sql`${position(subject, dialect, sql`${needle}`)} > 0`;
  else if (test === "starts_with") hit = sql`substr(${raw(subject)}, 1, ${n}) = ${needle}`;
  else
    hit = sql`(length(${raw(subject)}) >= ${n} AND substr(${raw(subject)}, length(${raw(subject)}) - ${n} + 1) = ${needle})`;
  // A negation never matches a null, as in graph-node's SQL.
  return negated ? sql`(${e} IS NOT NULL AND NOT ${hit})` : hit;
}

/** Aliases of the subqueries of one statement, numbered from 0 for each (so that one query shape is one SQL text). */
let aliases = 0;
export function startStatement(): void {
  aliases = 0;
}

/** The SQL of a condition over `alias`, a row of `spec`'s table. */
export function conditionSql(
  condition: Condition,
  spec: TableSpec,
  alias: string,
  tables: (entity: string) => TableSpec,
  dialect: Dialect,
): Sql {
  if ("all" in condition)
    return condition.all.length === 0
      ? TRUE
      : sql`(${join(
          condition.all.map((c) => conditionSql(c, spec, alias, tables, dialect)),
          " AND ",
        )})`;
  if ("any" in condition)
    return condition.any.length === 0
      ? FALSE
      : sql`(${join(
          condition.any.map((c) => conditionSql(c, spec, alias, tables, dialect)),
          " OR ",
        )})`;
  if ("changedSince" in condition) {
    if (spec.changedSince === undefined) throw new Error(`${spec.entity}: filtered in memory, not in SQL`);
    return spec.changedSince(alias, sql`${condition.changedSince}`);
  }
  if ("child" in condition) {
    const child = tables(condition.entity);
    const theirs = `c${++aliases}`;
    const tie = spec.joins![condition.child](alias, theirs);
    return sql`EXISTS (SELECT 1 FROM ${raw(`"${child.table}"`)} ${raw(theirs)} WHERE ${raw(tie)} AND ${conditionSql(
      condition.filter,
      child,
      theirs,
      tables,
      dialect,
    )})`;
  }
  return fieldCondition(spec.columns[condition.field](alias), condition.kind, condition.op, condition.value, dialect);
}

/** ORDER BY for `orderBy`/`orderDirection` as graph-node sorts: by id when not given; ties by id; nulls last asc. */
export function orderSql(
  spec: TableSpec,
  alias: string,
  tables: (entity: string) => TableSpec,
  dialect: Dialect,
  orderBy: string | null | undefined,
  orderDirection: string | null | undefined,
): Sql {
  const id = text(spec.columns.id(alias), dialect);
  if (!orderBy) return sql`${id} ASC`;
  const dir = raw(orderDirection === "desc" ? "DESC" : "ASC");
  let expr: string;
  let kind: FieldKind;
  let nonNull = false;
  const [field, childField] = orderBy.split("__");
  const fieldSpec = spec.fields[field];
  if (childField !== undefined) {
    const child = tables(fieldSpec.entity!);
    const childKind = child.fields[childField]?.kind;
    if (!ORDERABLE.includes(childKind)) refuseOrder(childField, child.entity);
    const theirs = `o${++aliases}`;
    expr = `(SELECT ${child.columns[childField](theirs)} FROM "${child.table}" ${theirs} WHERE ${spec.joins![field](alias, theirs)})`;
    kind = childKind;
  } else {
    if (fieldSpec === undefined || !ORDERABLE.includes(fieldSpec.kind)) refuseOrder(field, spec.entity);
    expr = spec.columns[field](alias);
    kind = fieldSpec.kind;
    nonNull = fieldSpec.nonNull === true;
  }
  // Nulls last ascending and first descending (PostgreSQL's default, which graph-node keeps); said only for a field
  // that can be null, so that a sort on a non-null column is an index's order (SQLite puts nulls first ascending).
  const nulls = raw(nonNull ? "" : orderDirection === "desc" ? " NULLS FIRST" : " NULLS LAST");
  const keys: Sql[] = [];
  if (kind === "bigint") keys.push(sql`length(${raw(expr)}) ${dir}${nulls}`);
  keys.push(sql`${kind === "int" ? raw(expr) : text(expr, dialect)} ${dir}${nulls}`);
  if (field !== "id") keys.push(sql`${id} ${dir}`);
  return join(keys, ", ");
}
