/**
 * The query API graph-node derives from a subgraph's entity types, derived here by the same rules, so that the
 * coordinator serves the shape The Graph serves and one query text runs against either. The rules follow graph-node
 * (graph/src/schema/api.rs, graphql/src/store/query.rs; the shape of versions 0.42 and 0.43): for each `@entity`
 * type `T`, in declaration order,
 * - `t(id: ID!, block, subgraphError): T` and a plural `ts(skip = 0, first = 100, orderBy: T_orderBy,
 *   orderDirection: OrderDirection, where: T_filter, block, subgraphError): [T!]!` (the plural gets `_collection`
 *   when it is spelled like the singular, as `marketStats_collection`);
 * - `T_filter`: per field, the suffixes its type takes (`_not`, `_gt`, `_lt`, `_gte`, `_lte`, `_in`, `_not_in`,
 *   `_contains`, `_starts_with`… and their `_nocase` forms), `field_` for a referenced entity, then
 *   `_change_block`, `and`, `or`;
 * - `T_orderBy`: every field, and `field__child` for each scalar child of a referenced entity;
 * - a list of entities inside an entity takes `(skip, first, orderBy, orderDirection, where)`;
 * then `_meta`, and the built-in types (`Block_height`, `OrderDirection`, `_Meta_`…).
 *
 * Used twice: test/coordinator/TheGraphShape.test.ts derives the subgraph's API from subgraph/schema.graphql, and
 * yoga.ts derives the coordinator's from coordinator/graphql/schema.graphql, where a field marked
 * `@coordinatorOnly` (Job.currentPrice, priced at the time of the query) is served but neither filtered nor sorted on.
 */
import {
  type DocumentNode,
  type FieldDefinitionNode,
  Kind,
  type ObjectTypeDefinitionNode,
  parse,
  print,
  type TypeNode,
} from "graphql";

/** The directives and scalars a subgraph schema is written with (graph-node's meta.graphql declares them). */
export const ENTITY_DIRECTIVES = `
directive @entity(immutable: Boolean, timeseries: Boolean) on OBJECT
directive @derivedFrom(field: String!) on FIELD_DEFINITION
directive @coordinatorOnly on FIELD_DEFINITION
scalar BigInt
scalar Bytes
scalar BigDecimal
scalar Int8
scalar Timestamp
`;

const BLOCK_DESCRIPTION =
  "The block at which the query should be executed. Can either be a `{ hash: Bytes }` value containing a block hash, " +
  "a `{ number: Int }` containing the block number, or a `{ number_gte: Int }` containing the minimum block number. " +
  "In the case of `number_gte`, the query will be executed on the latest block only if the subgraph has progressed " +
  "to or past the minimum block number. Defaults to the latest block when omitted.";
const ERROR_POLICY_DESCRIPTION =
  "Set to `allow` to receive data even if the subgraph has skipped over errors while syncing.";

/** graph-node's built-in query types (graph/src/schema/meta.graphql), less the scalars declared above. */
const BUILT_INS = `
"The type for the top-level _meta field"
type _Meta_ {
  """
  Information about a specific subgraph block. The hash of the block
  will be null if the _meta field has a block constraint that asks for
  a block number. It will be filled if the _meta field has no block constraint
  and therefore asks for the latest  block
  """
  block: _Block_!
  "The deployment ID"
  deployment: String!
  "If \`true\`, the subgraph encountered indexing errors at some past block"
  hasIndexingErrors: Boolean!
}

input BlockChangedFilter {
  number_gte: Int!
}

input Block_height {
  hash: Bytes
  number: Int
  number_gte: Int
}

type _Block_ {
  "The hash of the block"
  hash: Bytes
  "The block number"
  number: Int!
  "Integer representation of the timestamp stored in blocks for the chain"
  timestamp: Int
  "The hash of the parent block"
  parentHash: Bytes
}

enum _SubgraphErrorPolicy_ {
  "Data will be returned even if the subgraph has indexing errors"
  allow
  "If the subgraph has indexing errors, data will be omitted. The default."
  deny
}

"Defines the order direction, either ascending or descending"
enum OrderDirection {
  asc
  desc
}

enum Aggregation_interval {
  hour
  day
}

"Indicates whether the current, partially filled bucket should be included in the response. Defaults to \`exclude\`"
enum Aggregation_current {
  "Exclude the current, partially filled bucket from the response"
  exclude
  "Include the current, partially filled bucket in the response"
  include
}
`;

const SCALAR_OPS = ["", "not", "gt", "lt", "gte", "lte", "in", "not_in"];
const STRING_OPS = [
  ...SCALAR_OPS,
  "contains",
  "contains_nocase",
  "not_contains",
  "not_contains_nocase",
  "starts_with",
  "starts_with_nocase",
  "not_starts_with",
  "not_starts_with_nocase",
  "ends_with",
  "ends_with_nocase",
  "not_ends_with",
  "not_ends_with_nocase",
];
/** The filter suffixes of each scalar, in graph-node's order (api.rs field_filter_ops). */
export const OPS_OF_SCALAR: Record<string, string[]> = {
  ID: SCALAR_OPS,
  BigInt: SCALAR_OPS,
  BigDecimal: SCALAR_OPS,
  Int: SCALAR_OPS,
  Int8: SCALAR_OPS,
  Timestamp: SCALAR_OPS,
  Boolean: ["", "not", "in", "not_in"],
  Bytes: [...SCALAR_OPS, "contains", "not_contains"],
  String: STRING_OPS,
};
export const ENUM_OPS = ["", "not", "in", "not_in"];
export const STRING_LIST_OPS = ["", "not", "contains", "contains_nocase", "not_contains", "not_contains_nocase"];
export const LIST_OPS = ["", "not", "contains", "not_contains"];

/** A field of an entity as the derivation sees it. */
export interface EntityField {
  name: string;
  /** The named type under any list and non-null wrappers. */
  base: string;
  list: boolean;
  nonNull: boolean;
  derived: boolean;
  /** Served by the coordinator only; left out of filters and orders (see the file's comment). */
  coordinatorOnly: boolean;
}

export interface Entity {
  name: string;
  fields: EntityField[];
  node: ObjectTypeDefinitionNode;
}

function unwrap(type: TypeNode): { base: string; list: boolean; nonNull: boolean } {
  const nonNull = type.kind === Kind.NON_NULL_TYPE;
  let t = type;
  let list = false;
  while (t.kind !== Kind.NAMED_TYPE) {
    if (t.kind === Kind.LIST_TYPE) list = true;
    t = t.type;
  }
  return { base: t.name.value, list, nonNull };
}

const hasDirective = (node: { directives?: readonly { name: { value: string } }[] }, name: string) =>
  node.directives?.some((d) => d.name.value === name) ?? false;

/** The `@entity` types of a schema document, in declaration order. */
export function entitiesOf(document: DocumentNode): Entity[] {
  return document.definitions
    .filter((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION && hasDirective(d, "entity"))
    .map((node) => ({
      name: node.name.value,
      node,
      fields: (node.fields ?? []).map((f: FieldDefinitionNode) => ({
        name: f.name.value,
        ...unwrap(f.type),
        derived: hasDirective(f, "derivedFrom"),
        coordinatorOnly: hasDirective(f, "coordinatorOnly"),
      })),
    }));
}

// ---- names (graph-node's camel_cased_names: Inflector's to_plural, then to_camel_case)

/** Inflector's pluralization rules, in its order; tried from the last to the first. */
const PLURAL_RULES: [RegExp, string][] = [
  [/(\w*)s$/, "s"],
  [/(\w*([^aeiou]ese))$/, ""],
  [/(\w*(ax|test))is$/, "es"],
  [/(\w*(alias|[^aou]us|tlas|gas|ris))$/, "es"],
  [/(\w*(e[mn]u))s?$/, "s"],
  [/(\w*([^l]ias|[aeiou]las|[emjzr]as|[iu]am))$/, ""],
  [/(\w*(alumn|syllab|octop|vir|radi|nucle|fung|cact|stimul|termin|bacill|foc|uter|loc|strat))(?:us|i)$/, "i"],
  [/(\w*(alumn|alg|vertebr))(?:a|ae)$/, "ae"],
  [/(\w*(seraph|cherub))(?:im)?$/, "im"],
  [/(\w*(her|at|gr))o$/, "oes"],
  [
    /(\w*(agend|addend|millenni|dat|extrem|bacteri|desiderat|strat|candelabr|errat|ov|symposi|curricul|automat|quor))(?:a|um)$/,
    "a",
  ],
  [/(\w*(apheli|hyperbat|periheli|asyndet|noumen|phenomen|criteri|organ|prolegomen|hedr|automat))(?:a|on)$/, "a"],
  [/(\w*)sis$/, "ses"],
  [/(\w*(kni|wi|li))fe$/, "ves"],
  [/(\w*(ar|l|ea|eo|oa|hoo))f$/, "ves"],
  [/(\w*([^aeiouy]|qu))y$/, "ies"],
  [/(\w*([^ch][ieo][ln]))ey$/, "ies"],
  [/(\w*(x|ch|ss|sh|zz)es)$/, ""],
  [/(\w*(x|ch|ss|sh|zz))$/, "es"],
  [/(\w*(matr|cod|mur|sil|vert|ind|append))(?:ix|ex)$/, "ices"],
  [/(\w*(m|l)(?:ice|ouse))$/, "ice"],
  [/(\w*(pe)(?:rson|ople))$/, "ople"],
  [/(\w*(child))(?:ren)?$/, "ren"],
  [/(\w*eaux)$/, ""],
];
const IRREGULAR: Record<string, string> = {
  ox: "oxen",
  man: "men",
  woman: "women",
  die: "dice",
  yes: "yeses",
  foot: "feet",
  eave: "eaves",
  goose: "geese",
  tooth: "teeth",
  quiz: "quizzes",
};

function toPlural(name: string): string {
  if (name in IRREGULAR) return IRREGULAR[name];
  for (let i = PLURAL_RULES.length - 1; i >= 0; i--) {
    const match = PLURAL_RULES[i][0].exec(name);
    if (match) return match[1] + PLURAL_RULES[i][1];
  }
  return `${name}s`;
}

/** Inflector's to_camel_case, for type names (a quirk kept: the last character is not updated after a capital). */
function toCamelCase(s: string): string {
  const isAlnum = (c: string) => /[\p{L}\p{N}]/u.test(c);
  const isLower = (c: string) => /\p{Ll}/u.test(c);
  const isUpper = (c: string) => /\p{Lu}/u.test(c);
  let newWord = false;
  let lastChar = " ";
  let found = false;
  let out = "";
  for (const ch of s.replace(/[^\p{L}\p{N}]+$/u, "")) {
    if (!isAlnum(ch) && found) newWord = true;
    else if (!found && !isAlnum(ch)) continue;
    else if (/\p{N}/u.test(ch)) {
      found = true;
      newWord = true;
      out += ch;
    } else if (newWord || (isLower(lastChar) && isUpper(ch) && lastChar !== " ")) {
      found = true;
      newWord = false;
      out += ch.toUpperCase();
    } else {
      found = true;
      lastChar = ch;
      out += ch.toLowerCase();
    }
  }
  return out;
}

/** The query fields of an entity type: `job` and `jobs`, `marketStats` and `marketStats_collection`. */
export function queryFieldNames(typeName: string): { singular: string; plural: string } {
  const singular = toCamelCase(typeName);
  const plural = toCamelCase(toPlural(typeName));
  return { singular, plural: plural === singular ? `${plural}_collection` : plural };
}

// ---- derivation

const filterName = (type: string, op: string) => (op === "" ? type : `${type}_${op}`);

function filterFields(entity: Entity, entities: Map<string, Entity>, enums: Set<string>): string[] {
  const out: string[] = [];
  const idScalarOf = (name: string) => {
    const id = entities.get(name)!.fields.find((f) => f.name === "id")!.base;
    return id === "Int8" ? "Int" : "String";
  };
  for (const f of entity.fields) {
    if (f.coordinatorOnly) continue;
    const referenced = entities.has(f.base);
    if (f.list) {
      if (referenced) {
        if (!f.derived) {
          const id = entities.get(f.base)!.fields.find((x) => x.name === "id")!.base;
          const ops = idScalarOf(f.base) === "String" && id !== "Bytes" ? STRING_LIST_OPS : LIST_OPS;
          for (const op of ops) out.push(`${filterName(f.name, op)}: [${idScalarOf(f.base)}!]`);
        }
        out.push(`${f.name}_: ${f.base}_filter`);
      } else {
        const ops = f.base === "String" ? STRING_LIST_OPS : LIST_OPS;
        for (const op of ops) out.push(`${filterName(f.name, op)}: [${f.base}!]`);
      }
    } else if (referenced) {
      if (!f.derived) {
        const scalar = idScalarOf(f.base);
        for (const op of OPS_OF_SCALAR[scalar])
          out.push(`${filterName(f.name, op)}: ${op.endsWith("in") ? `[${scalar}!]` : scalar}`);
      }
      out.push(`${f.name}_: ${f.base}_filter`);
    } else if (enums.has(f.base)) {
      for (const op of ENUM_OPS) out.push(`${filterName(f.name, op)}: ${op.endsWith("in") ? `[${f.base}!]` : f.base}`);
    } else {
      for (const op of OPS_OF_SCALAR[f.base] ?? ["", "not"])
        out.push(`${filterName(f.name, op)}: ${op.endsWith("in") ? `[${f.base}!]` : f.base}`);
    }
  }
  out.push('"Filter for the block changed event."', "_change_block: BlockChangedFilter");
  out.push(`and: [${entity.name}_filter]`, `or: [${entity.name}_filter]`);
  return out;
}

function orderByValues(entity: Entity, entities: Map<string, Entity>): string[] {
  const out: string[] = [];
  for (const f of entity.fields) {
    if (f.coordinatorOnly) continue;
    out.push(f.name);
    if (!f.list && entities.has(f.base))
      for (const c of entities.get(f.base)!.fields)
        if (!c.list && !entities.has(c.base) && !c.coordinatorOnly) out.push(`${f.name}__${c.name}`);
  }
  return out;
}

const collectionArgs = (type: string) =>
  `skip: Int = 0, first: Int = 100, orderBy: ${type}_orderBy, orderDirection: OrderDirection, where: ${type}_filter`;

/**
 * The query API for a schema document of entity types (and anything else it declares, kept as written): the
 * entity types with their lists' arguments, their filters and orders, `Query`, and the built-in types.
 */
export function deriveQueryApi(sdl: string): string {
  const document = parse(sdl);
  const entities = new Map(entitiesOf(document).map((e) => [e.name, e]));
  const enums = new Set(
    document.definitions.filter((d) => d.kind === Kind.ENUM_TYPE_DEFINITION).map((d) => (d as any).name.value),
  );
  const parts: string[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.DIRECTIVE_DEFINITION) continue;
    const entity = definition.kind === Kind.OBJECT_TYPE_DEFINITION ? entities.get(definition.name.value) : undefined;
    if (entity === undefined) {
      parts.push(print(definition));
      continue;
    }
    // The entity as written, without the directives, and with arguments on its lists of entities.
    const fields = (entity.node.fields ?? []).map((f) => {
      const { base, list } = unwrap(f.type);
      const description = f.description ? `${print(f.description)}\n  ` : "";
      const args =
        list && entities.has(base)
          ? `(${collectionArgs(base)})`
          : f.arguments?.length
            ? `(${f.arguments.map(print).join(", ")})`
            : "";
      return `  ${description}${f.name.value}${args}: ${print(f.type)}`;
    });
    const description = entity.node.description ? `${print(entity.node.description)}\n` : "";
    parts.push(`${description}type ${entity.name} {\n${fields.join("\n")}\n}`);
  }
  parts.push(BUILT_INS);
  for (const entity of entities.values()) {
    parts.push(`enum ${entity.name}_orderBy {\n  ${orderByValues(entity, entities).join("\n  ")}\n}`);
    parts.push(`input ${entity.name}_filter {\n  ${filterFields(entity, entities, enums).join("\n  ")}\n}`);
  }
  const block = `"${BLOCK_DESCRIPTION}"\n    block: Block_height\n    "${ERROR_POLICY_DESCRIPTION}"\n    subgraphError: _SubgraphErrorPolicy_! = deny`;
  const query: string[] = [];
  for (const entity of entities.values()) {
    const { singular, plural } = queryFieldNames(entity.name);
    query.push(`  ${singular}(\n    id: ID!\n    ${block}\n  ): ${entity.name}`);
    query.push(
      `  ${plural}(\n    ${collectionArgs(entity.name).replaceAll(", ", "\n    ")}\n    ${block}\n  ): [${entity.name}!]!`,
    );
  }
  query.push('  "Access to subgraph metadata"\n  _meta(block: Block_height): _Meta_');
  parts.push(`type Query {\n${query.join("\n")}\n}`);
  // The directives and scalars a schema is written with, but for a scalar it declares itself (with a description).
  const declared = new Set(
    document.definitions.filter((d) => d.kind === Kind.SCALAR_TYPE_DEFINITION).map((d) => (d as any).name.value),
  );
  const prelude = ENTITY_DIRECTIVES.split("\n").filter((line) => !declared.has(line.replace(/^scalar /, "")));
  return `${prelude.join("\n")}\n${parts.join("\n\n")}\n`;
}
