/**
 * The Graph's `where` filters and `orderBy`, as graph-node reads them (graphql/src/store/query.rs,
 * store/postgres/src/relational_queries.rs), turned into one description that the coordinator evaluates two ways:
 * in SQL over its tables (theGraphSql.ts) and in memory over the entities it computes rather than stores (circuits
 * and the market's totals). Where graph-node's behaviour is one a client notices, it is followed: `_not` and the
 * other negations never match a null, `_in: []` and `_not_in: []` match nothing, a list's `_contains` wants all the
 * values and `_not_contains` none of them, `_contains_nocase` on a list matches an element equal to a value whatever
 * its case (and `_not_contains_nocase` a null list too), `_nocase` folds ASCII letters only, Bytes contain bytes, and a filter on a child entity cannot hold another. (One difference: graph-node passes a `_contains` or
 * `_starts_with` value to SQL LIKE unescaped, so `%` and `_` in it are wildcards; here they are plain characters.)
 */
import { GraphQLError } from "graphql";
import { ENUM_OPS, LIST_OPS, OPS_OF_SCALAR, STRING_LIST_OPS } from "./graphNodeApi.ts";

/** How a field's values compare. */
export type FieldKind = "text" | "bytes" | "bigint" | "int" | "enum" | "list" | "ref" | "derived";

export interface FieldSpec {
  kind: FieldKind;
  /** Never null (non-null in the schema): sorting on it needs no place for nulls, so an index can serve it. */
  nonNull?: boolean;
  /** For "ref" and "derived": the entity it points to. */
  entity?: string;
}

/** The filterable fields of each entity, by their GraphQL names. */
export type EntityFields = Record<string, FieldSpec>;

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { field: string; kind: FieldKind; op: string; value: unknown }
  | { child: string; entity: string; filter: Condition }
  | { changedSince: number };

const refuse = (message: string): never => {
  throw new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT" } });
};

const opsOf = (spec: FieldSpec): string[] => {
  switch (spec.kind) {
    case "text":
      return OPS_OF_SCALAR.String;
    case "ref":
      return OPS_OF_SCALAR.String;
    case "bytes":
      return OPS_OF_SCALAR.Bytes;
    case "bigint":
    case "int":
      return OPS_OF_SCALAR.Int;
    case "enum":
      return ENUM_OPS;
    case "list":
      return [...new Set([...STRING_LIST_OPS, ...LIST_OPS])];
    default:
      return [];
  }
};

/** Splits a filter key into its field and operator (`maxFee_gte` → maxFee, gte), knowing the entity's fields. */
function splitKey(key: string, fields: EntityFields): [string, string] | null {
  if (key in fields) return [key, ""];
  for (const name of Object.keys(fields).sort((a, b) => b.length - a.length))
    if (key.startsWith(`${name}_`) && opsOf(fields[name]).includes(key.slice(name.length + 1)))
      return [name, key.slice(name.length + 1)];
  return null;
}

/**
 * A `where` argument (already checked against the schema's filter type) as a Condition. `fieldsOf` gives each
 * entity's fields; `inChild` is set inside a child filter, which may not hold another.
 */
export function parseFilter(
  entity: string,
  where: Record<string, unknown> | null | undefined,
  fieldsOf: (entity: string) => EntityFields,
  inChild = false,
): Condition {
  const condition = parseConditions(entity, where, fieldsOf, inChild);
  if (!inChild) limitSize(condition);
  return condition;
}

/** Bounds on one `where`, so that a filter's own size cannot make a statement unbounded work (graph-node has none). */
export const MAX_CONDITIONS = 100;
export const MAX_CHILD_FILTERS = 5;
export const MAX_LIST_VALUES = 1000;

function limitSize(condition: Condition): void {
  let conditions = 0;
  let children = 0;
  const walk = (c: Condition) => {
    if ("all" in c) c.all.forEach(walk);
    else if ("any" in c) c.any.forEach(walk);
    else if ("child" in c) {
      children++;
      walk(c.filter);
    } else {
      conditions++;
      if ("value" in c && Array.isArray(c.value) && c.value.length > MAX_LIST_VALUES)
        refuse(
          `where: \`${c.field}_${c.op}\` lists ${c.value.length} values, more than ${MAX_LIST_VALUES}: split the query`,
        );
    }
  };
  walk(condition);
  if (conditions > MAX_CONDITIONS)
    refuse(`where: ${conditions} conditions, more than ${MAX_CONDITIONS}: split the query, or filter on a range`);
  if (children > MAX_CHILD_FILTERS)
    refuse(`where: ${children} filters on child entities, more than ${MAX_CHILD_FILTERS}: split the query`);
}

function parseConditions(
  entity: string,
  where: Record<string, unknown> | null | undefined,
  fieldsOf: (entity: string) => EntityFields,
  inChild: boolean,
): Condition {
  const parts: Condition[] = [];
  if (where === null || where === undefined) return { all: parts };
  const keys = Object.keys(where).filter((k) => where[k] !== undefined);
  for (const logical of ["and", "or"]) {
    if (keys.includes(logical) && keys.length > 1)
      refuse(
        `where: \`${logical}\` must stand alone in its object (as on The Graph); found ${keys
          .filter((k) => k !== logical)
          .map((k) => `\`${k}\``)
          .join(", ")} beside it: move them into the list, e.g. { ${logical}: [{ status: Open }, { ... }] }`,
      );
  }
  const fields = fieldsOf(entity);
  for (const key of keys) {
    const value = where[key];
    if (key === "and" || key === "or") {
      const list = ((value as unknown[] | null) ?? []).map((w) =>
        parseConditions(entity, w as Record<string, unknown>, fieldsOf, inChild),
      );
      parts.push(key === "and" ? { all: list } : { any: list });
    } else if (key === "_change_block") {
      parts.push({ changedSince: (value as { number_gte: number }).number_gte });
    } else if (key.endsWith("_") && fields[key.slice(0, -1)]?.entity !== undefined) {
      const name = key.slice(0, -1);
      if (inChild)
        refuse(
          `where: a filter on a child entity cannot hold another (\`${name}_\` inside one), as on The Graph: filter ` +
            "the inner entity in a query of its own",
        );
      const child = fields[name].entity!;
      parts.push({
        child: name,
        entity: child,
        filter: parseConditions(child, value as Record<string, unknown>, fieldsOf, true),
      });
    } else {
      const split = splitKey(key, fields);
      if (split === null) refuse(`where: \`${key}\` is not a filter of ${entity}`);
      const [field, op] = split!;
      if (value === null && op !== "" && op !== "not")
        refuse(`where: \`${key}\` needs a value; only \`${field}\` and \`${field}_not\` take null`);
      parts.push({ field, kind: fields[field].kind, op, value });
    }
  }
  return { all: parts };
}

// ---- in memory

const compareBig = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Compares two non-null values of a field of this kind, as graph-node's database does. */
export function compareValues(kind: FieldKind, a: unknown, b: unknown): number {
  if (kind === "bigint") return compareBig(BigInt(a as string), BigInt(b as string));
  if (kind === "int") return (a as number) - (b as number);
  return compareText(String(a), String(b));
}

/** Case folded as graph-node's ILIKE under a C ctype folds it: ASCII letters only. */
export const foldAscii = (v: unknown) => String(v).replace(/[A-Z]/g, (c) => c.toLowerCase());
const lower = foldAscii;

function opMatches(kind: FieldKind, op: string, have: unknown, want: unknown): boolean {
  if (op === "") return want === null ? have === null || have === undefined : have !== null && equal(kind, have, want);
  if (op === "not")
    return want === null ? have !== null && have !== undefined : have !== null && !equal(kind, have, want);
  // graph-node's NOT EXISTS over the list's elements: a null list has none, so it passes.
  if (kind === "list" && op === "not_contains_nocase" && (have === null || have === undefined)) return true;
  if (have === null || have === undefined) return false;
  if (kind === "list") {
    const items = (have as unknown[]).map(String);
    const wanted = (want as unknown[]).map(String);
    if (op === "contains") return wanted.every((w) => items.includes(w));
    if (op === "not_contains") return !wanted.some((w) => items.includes(w));
    const anyNocase = items.some((i) => wanted.some((w) => lower(i) === lower(w)));
    if (op === "contains_nocase") return anyNocase;
    if (op === "not_contains_nocase") return !anyNocase;
  }
  const c = () => compareValues(kind, have, want);
  switch (op) {
    case "gt":
      return c() > 0;
    case "lt":
      return c() < 0;
    case "gte":
      return c() >= 0;
    case "lte":
      return c() <= 0;
    case "in":
      return (want as unknown[]).some((w) => equal(kind, have, w));
    case "not_in":
      return (want as unknown[]).length > 0 && !(want as unknown[]).some((w) => equal(kind, have, w));
  }
  // Bytes contain bytes: compared decoded, so that a match is never half a byte off.
  if (kind === "bytes") {
    const hit = Buffer.from(String(have).slice(2), "hex").includes(Buffer.from(String(want).slice(2), "hex"));
    return op === "contains" ? hit : !hit;
  }
  const nocase = op.endsWith("_nocase");
  const h = nocase ? lower(have) : String(have);
  const w = nocase ? lower(want) : String(want);
  const base = op.replace(/_nocase$/, "");
  const negated = base.startsWith("not_");
  const test = base.replace(/^not_/, "");
  const hit =
    test === "contains"
      ? h.includes(w)
      : test === "starts_with"
        ? h.startsWith(w)
        : test === "ends_with" && h.endsWith(w);
  return negated ? !hit : hit;
}

function equal(kind: FieldKind, have: unknown, want: unknown): boolean {
  if (kind === "list")
    return JSON.stringify((have as unknown[]).map(String)) === JSON.stringify((want as unknown[]).map(String));
  return compareValues(kind, have, want) === 0;
}

/** The block an entity computed in memory last changed at, for `_change_block` (a field no client sees). */
export const CHANGED_AT = "__changedAt";

/**
 * Whether an entity (its GraphQL field values) meets a condition; null where it cannot be told in memory (a child
 * filter, or changes since a block for an entity without CHANGED_AT), which a caller treats as its purpose asks.
 */
export function matches(condition: Condition, entity: Record<string, unknown>): boolean | null {
  if ("all" in condition) {
    let unknown = false;
    for (const part of condition.all) {
      const m = matches(part, entity);
      if (m === false) return false;
      if (m === null) unknown = true;
    }
    return unknown ? null : true;
  }
  if ("any" in condition) {
    let unknown = false;
    for (const part of condition.any) {
      const m = matches(part, entity);
      if (m === true) return true;
      if (m === null) unknown = true;
    }
    return unknown ? null : false;
  }
  if ("changedSince" in condition)
    return typeof entity[CHANGED_AT] === "number" ? (entity[CHANGED_AT] as number) >= condition.changedSince : null;
  if ("child" in condition) return null;
  return opMatches(condition.kind, condition.op, entity[condition.field], condition.value);
}

// ---- order and pages

export const MAX_FIRST = 1000;
export const MAX_SKIP = 5000;

/** `first` and `skip` as graph-node checks them (with the hosted service's skip limit, 5,000). */
export function pageRange(first: number | null | undefined, skip: number | null | undefined) {
  const f = first ?? 100;
  const s = skip ?? 0;
  if (f <= 0 || f > MAX_FIRST) refuse(`The \`first\` argument must be between 0 and ${MAX_FIRST}, but is ${f}`);
  if (s < 0 || s > MAX_SKIP)
    refuse(
      `The \`skip\` argument must be between 0 and ${MAX_SKIP}, but is ${s}: to go further, filter on the order's ` +
        'field instead (e.g. where: { id_gt: "<last id seen>" })',
    );
  return { first: f, skip: s };
}

/** Kinds graph-node orders by (query.rs build_order_by): scalars; not enums, references or lists. */
export const ORDERABLE: FieldKind[] = ["text", "bytes", "bigint", "int"];

export function refuseOrder(field: string, entity: string): never {
  return refuse(`Ordering by \`${field}\` is not supported for type \`${entity}\``);
}

/** Sorts computed entities in memory as graph-node's database orders them (nulls last ascending, ties by id). */
export function sortEntities<T extends Record<string, unknown>>(
  rows: T[],
  entity: string,
  fields: EntityFields,
  orderBy: string | null | undefined,
  direction: string | null | undefined,
): T[] {
  const field = orderBy ?? "id";
  const spec = fields[field];
  if (spec === undefined || !ORDERABLE.includes(spec.kind)) refuseOrder(field, entity);
  const sign = orderBy && direction === "desc" ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[field];
    const y = b[field];
    if (x === null || x === undefined || y === null || y === undefined) {
      if ((x ?? null) === (y ?? null)) return sign * compareText(String(a.id), String(b.id));
      return (x === null || x === undefined ? 1 : -1) * sign;
    }
    return sign * (compareValues(spec.kind, x, y) || compareText(String(a.id), String(b.id)));
  });
}
