/**
 * Query documents compiled to JavaScript (graphql-jit) for the direct executor (directExecutor.ts). graphql-js walks
 * a document anew for every answer, and for every field of every row it builds the field's arguments and resolve
 * info: on the all-distinct GraphQL bench (issue #16) that was most of what a miss allocated (2.2 GiB in 6 s, 70% of
 * it in graphql-js's execution) and a fifth of the server's time. A compiled document does that work once.
 *
 * graphql-jit generates code from the document, and two reviews of it found ways for a document to run code or to be
 * answered wrongly without an error. So only documents of a narrow, plain shape are compiled; anything else (and
 * anything compileQuery refuses, or an answer with an error) is executed by graphql-js, as before:
 * - no string literal, and enum literals only where an enum is expected: graphql-jit writes literal arguments into
 *   its code through a JSON.stringify that turns a string holding one of its markers (`"__MAGIC_DATE__…"`) into
 *   JavaScript, and a scalar without its own parsing (graph-node's BigDecimal) reads a bare name as a string. What
 *   is left of a literal is the schema's names, numbers, booleans and null; strings come as variables, which are
 *   data to the compiled code;
 * - plain names: every alias and field name letters and digits (or `__typename`), every variable, fragment and
 *   operation name too. graphql-jit names the resolve info of a field by its path joined with `_`, so an alias `b_a`
 *   beside `a { b }` gave one field the other's selection (and columns left unread, as null); `__proto__` as an
 *   alias or a variable was lost;
 * - variables that are scalars or enums (or lists of them): graphql-jit compiles the coercion of an input-object
 *   variable by unrolling its type, and the filters nest without end (`and` and `or` take lists of the same filter):
 *   `query($w: Job_filter)` took 4 GiB and then the process down;
 * - every variable the operation declares given in the request, none with a default: graphql-jit puts null where a
 *   variable left out sits in an input object (`where: { status: $s }` without `s` filters on a null status;
 *   graphql-js leaves the field out), and clients leave out variables they have no value for; and it lets a null
 *   through where a variable with a default stands for a value that may not be null, which graphql-js refuses;
 * - no directives: graphql-jit's own documentation says its default @skip/@include is not right in fragment spreads;
 * - small: one operation, at most MAX_COMPILED_TEXT characters, MAX_COMPILED_FIELDS fields (each fragment spread
 *   counted as its fields), MAX_COMPILED_NODES syntax nodes and fields MAX_COMPILED_DEPTH deep. Compiling runs on the
 *   event loop (a document a hundred lists wide took 139 ms), and the code it makes repeats the document's names and
 *   grows with its nesting (a 90 KB document of long aliases kept 1.8 MiB, one of 96 fields eight deep 1 MiB);
 * - from its second asking: compiling takes a few milliseconds, ten executions' worth, and a query asked once (the
 *   ones an explorer types) is executed by graphql-js.
 *
 * What compiling leaves behind: graphql-jit makes its code with `new Function`, and V8 keeps the source and bytecode
 * of each in its compilation cache until memory runs short, whether or not the code is still used (600 compilations
 * of a large document kept 80 MiB; none with `--no-compilation-cache`). Under the coordinator's heap limit
 * (COORDINATOR_NODE_FLAGS) V8 empties that cache when the heap fills: 3,000 such compilations levelled off at 44 MiB.
 */
import {
  BREAK,
  type DocumentNode,
  type ExecutionResult,
  getNamedType,
  GraphQLError,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  TypeInfo,
  visit,
  visitWithTypeInfo,
} from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";
import { LRUCache } from "lru-cache";

/** How often a document is asked for before it is compiled (the first askings are executed by graphql-js). */
export const COMPILE_FROM_ASKING = 2;
/**
 * What a compiled document may hold: compiling runs on the event loop, and took 4 ms for fourteen filtered lists (419
 * nodes), 20 ms for 46 lists of strings four deep, 32 ms for 96. The README's and the clients' queries hold 32
 * fields, 81 nodes and 1,100 characters at most.
 */
export const MAX_COMPILED_TEXT = 4096;
export const MAX_COMPILED_FIELDS = 50;
export const MAX_COMPILED_NODES = 400;
/**
 * Fields nested at most this deep (`jobs { circuit { name } }` is 3): the code graphql-jit makes grows with the
 * nesting, 255 KB of source for 96 fields eight deep against 16 KB for as many two deep. The README's and the
 * clients' queries nest 3 deep at most.
 */
export const MAX_COMPILED_DEPTH = 4;
/**
 * How many documents are kept compiled (the most recently asked), with their code: at most KEPT_COMPILED, of a total
 * weight (Shape) of at most KEPT_COMPILED_WEIGHT. Code took 2 to 4 KiB of heap per unit of weight (46 lists of
 * strings four deep; six lists of seven fields), so this is about 16 MiB at most. A client's own queries are a few
 * dozen texts weighing 10 to 60 each (the bench's weigh 13 to 26); past the bounds, the least recently asked is
 * compiled again when it is next asked.
 */
export const KEPT_COMPILED = 100;
export const KEPT_COMPILED_WEIGHT = 4000;

const PLAIN_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** What a compiled document's code grows with: its fields (each fragment spread counted where it is spread), how
 *  deep they nest, and their weight, each field counted as deep as it stands (`jobs { id }` weighs 1 + 2). */
interface Shape {
  fields: number;
  deepest: number;
  weight: number;
}
const TOO_LARGE: Shape = { fields: Infinity, deepest: Infinity, weight: Infinity };

function shapeOf(document: DocumentNode, operation: OperationDefinitionNode): Shape {
  const fragments = new Map<string, SelectionSetNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d.selectionSet);
  const spread = new Map<string, Shape>();
  const measure = (set: SelectionSetNode | undefined, depth: number): Shape => {
    const shape = { fields: 0, deepest: depth - 1, weight: 0 };
    for (const s of set?.selections ?? []) {
      let part: Shape;
      if (s.kind === Kind.FIELD) {
        const below = measure(s.selectionSet, depth + 1);
        part = { fields: 1 + below.fields, deepest: Math.max(depth, below.deepest), weight: depth + below.weight };
      } else if (s.kind === Kind.INLINE_FRAGMENT) part = measure(s.selectionSet, depth);
      else {
        const key = `${s.name.value}@${depth}`;
        // A fragment that spreads itself (refused by validation) counts as too large.
        if (!spread.has(key)) spread.set(key, TOO_LARGE).set(key, measure(fragments.get(s.name.value), depth));
        part = spread.get(key)!;
      }
      shape.fields += part.fields;
      shape.deepest = Math.max(shape.deepest, part.deepest);
      shape.weight += part.weight;
      if (shape.fields > MAX_COMPILED_FIELDS) return TOO_LARGE;
    }
    return shape;
  };
  return measure(operation.selectionSet, 1);
}

/**
 * Why a document (of a valid query's text) is executed by graphql-js however often it is asked; null when it may be
 * compiled.
 */
export function notCompiled(schema: GraphQLSchema, document: DocumentNode, text: string): string | null {
  return examine(schema, document, text).reason;
}

/** notCompiled's reason, and the weight (Shape) of a document that may be compiled. */
function examine(
  schema: GraphQLSchema,
  document: DocumentNode,
  text: string,
): { reason: string | null; weight: number } {
  const refuse = (reason: string) => ({ reason, weight: Infinity });
  if (text.length > MAX_COMPILED_TEXT) return refuse(`it is longer than ${MAX_COMPILED_TEXT} characters`);
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) return refuse("it holds more than one operation");
  const types = new TypeInfo(schema);
  let nodes = 0;
  let reason: string | null = null;
  const notPlain = (name: string | undefined, what: string) =>
    name !== undefined && !PLAIN_NAME.test(name) ? `${what} ${name} is not letters and digits` : null;
  visit(
    document,
    visitWithTypeInfo(types, {
      enter(node) {
        if (++nodes > MAX_COMPILED_NODES) reason = `it has more than ${MAX_COMPILED_NODES} syntax nodes`;
        else if (node.kind === Kind.STRING) reason = "it has a string literal (strings may come as variables)";
        else if (node.kind === Kind.ENUM && !isEnumType(getNamedType(types.getInputType() ?? undefined)))
          reason = `the name ${node.value} stands where no enum is expected`;
        else if (node.kind === Kind.DIRECTIVE) reason = `it has the directive @${node.name.value}`;
        else if (node.kind === Kind.FIELD)
          reason =
            notPlain(node.alias?.value, "alias") ??
            (node.name.value === "__typename" ? null : notPlain(node.name.value, "field"));
        else if (node.kind === Kind.OPERATION_DEFINITION) reason = notPlain(node.name?.value, "operation");
        else if (node.kind === Kind.FRAGMENT_DEFINITION || node.kind === Kind.FRAGMENT_SPREAD)
          reason = notPlain(node.name.value, "fragment");
        else if (node.kind === Kind.VARIABLE_DEFINITION) {
          const name = node.variable.name.value;
          reason = notPlain(name, "variable");
          // With a default, a nullable variable may stand where null may not (`id_in: [$a]`, `$a: ID = 1`):
          // graphql-js refuses it given null, graphql-jit checks only a variable that is an argument itself.
          if (reason === null && node.defaultValue !== undefined) reason = `variable $${name} has a default value`;
          let type = node.type;
          while (type.kind !== Kind.NAMED_TYPE) type = type.type;
          if (reason === null && isInputObjectType(schema.getType(type.name.value)))
            reason = `variable $${name} is an input object`;
        }
        return reason === null ? undefined : BREAK;
      },
    }),
  );
  if (reason !== null) return refuse(reason);
  const shape = shapeOf(document, operations[0]);
  if (shape.fields > MAX_COMPILED_FIELDS) return refuse(`it selects more than ${MAX_COMPILED_FIELDS} fields`);
  if (shape.deepest > MAX_COMPILED_DEPTH) return refuse(`it nests fields more than ${MAX_COMPILED_DEPTH} deep`);
  return { reason: null, weight: shape.weight };
}

export interface QueryCompiler {
  /**
   * The document of this text compiled, once it has been asked for often enough and may be, when the request gives
   * every variable it declares; else undefined (execute it with graphql-js). The caller keeps each text's document:
   * the same text, the same object.
   */
  (document: DocumentNode, text: string, variables: Record<string, unknown>): CompiledQuery | undefined;
  /** Documents compiled and documents found not compilable, since the start; how many are kept compiled now. */
  stats(): { compiled: number; notCompiled: number; kept: number };
}

interface Compiled {
  query: CompiledQuery;
  variables: string[];
  weight: number;
}

export function createQueryCompiler(
  schema: GraphQLSchema,
  { compileFrom = COMPILE_FROM_ASKING, kept = KEPT_COMPILED, keptWeight = KEPT_COMPILED_WEIGHT } = {},
): QueryCompiler {
  // What is known of a document for as long as its caller keeps it (never longer: a document may be megabytes):
  // how often it was asked (up to compileFrom), and whether it was found not compilable.
  const asked = new WeakMap<DocumentNode, number>();
  const refused = new WeakSet<DocumentNode>();
  // The documents compiled, small ones, kept here with their code, the most recently asked within a number and a
  // total weight.
  const compiledOf = new LRUCache<DocumentNode, Compiled>({
    max: kept,
    maxSize: keptWeight,
    sizeCalculation: (compiled) => compiled.weight,
  });
  const counts = { compiled: 0, notCompiled: 0 };
  const compile = (document: DocumentNode, text: string): Compiled | null => {
    const { reason, weight } = examine(schema, document, text);
    const made = reason === null ? compileQuery(schema, document) : null;
    if (made === null || !isCompiledQuery(made)) return null;
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
    const variables = (operation.variableDefinitions ?? []).map((v) => v.variable.name.value);
    return { query: made, variables, weight };
  };
  const compiler = (document: DocumentNode, text: string, variables: Record<string, unknown>) => {
    const times = Math.min(compileFrom, (asked.get(document) ?? 0) + 1);
    asked.set(document, times);
    if (times < compileFrom || refused.has(document)) return undefined;
    let compiled = compiledOf.get(document);
    if (compiled === undefined) {
      const made = compile(document, text);
      counts[made === null ? "notCompiled" : "compiled"]++;
      if (made === null) return void refused.add(document);
      compiledOf.set(document, (compiled = made));
    }
    return compiled.variables.every((name) => Object.hasOwn(variables, name)) ? compiled.query : undefined;
  };
  return Object.assign(compiler, { stats: () => ({ ...counts, kept: compiledOf.size }) });
}

/** A compiled document's answer; a throw from its code (a bug, not a resolver's error) is an error like any other. */
export async function compiledAnswer(
  compiled: CompiledQuery,
  context: unknown,
  variables: Record<string, unknown>,
): Promise<ExecutionResult> {
  try {
    return await compiled.query(undefined, context, variables);
  } catch (e) {
    return { errors: [e instanceof GraphQLError ? e : new GraphQLError(String(e))] };
  }
}
