/**
 * Query documents compiled to JavaScript (graphql-jit) for the direct executor (yoga.ts). graphql-js walks a
 * document anew for every answer, and for every field of every row it builds the field's arguments and resolve info:
 * on the all-distinct GraphQL bench (issue #16) that was most of what a miss allocated (2.2 GiB in 6 s, 70% of it in
 * graphql-js's execution) and a fifth of the server's time. A compiled document does that work once.
 *
 * A document is compiled only where that is safe and pays:
 * - from its second asking: compiling takes a few milliseconds, ten executions' worth, and a query asked once (the
 *   ones an explorer types) is executed by graphql-js as before;
 * - when every variable is a scalar or an enum (or a list of them): graphql-jit compiles the coercion of an
 *   input-object variable by unrolling its type, and the filters nest each other without end (Job_filter has
 *   `circuit_: Circuit_filter`, which has `jobs_: Job_filter`): `query($w: Job_filter)` took 4 GiB and then the
 *   process down. Filters written in the document, with scalar variables inside, compile in a few milliseconds;
 * - when it has no directives: graphql-jit's own documentation says its default @skip/@include handling is not
 *   right for fragment spreads;
 * - when it selects at most MAX_COMPILED_FIELDS fields (every fragment spread counted as its fields): compiling takes
 *   about 20 µs a field, all of it on the event loop, and a document a hundred lists wide took 139 ms.
 * Anything else, and anything compileQuery refuses, is executed by graphql-js.
 */
import {
  type DocumentNode,
  type GraphQLSchema,
  getNamedType,
  isInputObjectType,
  Kind,
  type SelectionSetNode,
  visit,
} from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";

/** How often a document is executed by graphql-js before it is compiled. */
export const COMPILE_FROM_ASKING = 2;

/** About 4 ms of compiling; the pages the README and the clients ask for select a few dozen fields. */
export const MAX_COMPILED_FIELDS = 200;

/** The fields a compiled document would hold: its operations' with every fragment spread counted where it is. */
function fieldsCompiled(document: DocumentNode): number {
  const fragments = new Map<string, SelectionSetNode>();
  for (const d of document.definitions)
    if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d.selectionSet);
  const counted = new Map<string, number>();
  const count = (set: SelectionSetNode | undefined): number => {
    let n = 0;
    for (const s of set?.selections ?? []) {
      if (s.kind === Kind.FIELD) n += 1 + count(s.selectionSet);
      else if (s.kind === Kind.INLINE_FRAGMENT) n += count(s.selectionSet);
      else {
        const name = s.name.value;
        // A fragment that spreads itself (refused by validation) counts as too many.
        if (!counted.has(name)) counted.set(name, Infinity).set(name, count(fragments.get(name)));
        n += counted.get(name)!;
      }
      if (n > MAX_COMPILED_FIELDS) return n;
    }
    return n;
  };
  let total = 0;
  for (const d of document.definitions) if (d.kind === Kind.OPERATION_DEFINITION) total += count(d.selectionSet);
  return total;
}

/** Why a document is executed by graphql-js however often it is asked; null when it may be compiled. */
export function notCompiled(schema: GraphQLSchema, document: DocumentNode): string | null {
  if (fieldsCompiled(document) > MAX_COMPILED_FIELDS) return `it selects more than ${MAX_COMPILED_FIELDS} fields`;
  let reason: string | null = null;
  visit(document, {
    VariableDefinition(node) {
      let type = node.type;
      while (type.kind !== Kind.NAMED_TYPE) type = type.type;
      const named = schema.getType(type.name.value);
      if (named && isInputObjectType(getNamedType(named)))
        reason ??= `variable $${node.variable.name.value} is an input object`;
    },
    Directive(node) {
      reason ??= `it has the directive @${node.name.value}`;
    },
  });
  return reason;
}

/**
 * How many documents' compiled operations are kept (the most recently asked): a compiled document holds its
 * generated code, about 0.1 MiB for a page of jobs with their circuits and histories (1,000 took 95 MiB of heap), and
 * the coordinator's memory goal is 300 MiB. A client's own queries are a few dozen texts; past this many, the least
 * recently asked is compiled again when it is next asked.
 */
export const KEPT_COMPILED = 100;

export interface QueryCompiler {
  /** The document compiled for this operation, once it has been asked for often enough and may be; else undefined. */
  (document: DocumentNode, operationName: string | undefined): CompiledQuery | undefined;
  /** Documents compiled and documents found not compilable, since the start; how many are kept now. */
  stats(): { compiled: number; notCompiled: number; kept: number };
}

export function createQueryCompiler(
  schema: GraphQLSchema,
  { compileFrom = COMPILE_FROM_ASKING, kept = KEPT_COMPILED } = {},
): QueryCompiler {
  // How often each document was asked (up to compileFrom), for as long as the direct executor keeps the document.
  const asked = new WeakMap<DocumentNode, number>();
  // Each kept document's operations, compiled or null (not compilable); a Map keeps insertion order, so the most
  // recently asked document is moved last and the first is the one to drop.
  const compiledOf = new Map<DocumentNode, Map<string | undefined, CompiledQuery | null>>();
  const counts = { compiled: 0, notCompiled: 0 };
  const compiler = (document: DocumentNode, operationName: string | undefined) => {
    const times = Math.min(compileFrom, (asked.get(document) ?? 0) + 1);
    asked.set(document, times);
    if (times < compileFrom) return undefined;
    let operations = compiledOf.get(document);
    if (operations !== undefined) compiledOf.delete(document);
    else {
      operations = new Map();
      if (compiledOf.size >= kept) compiledOf.delete(compiledOf.keys().next().value!);
    }
    compiledOf.set(document, operations);
    let compiled = operations.get(operationName);
    if (compiled === undefined) {
      const made = notCompiled(schema, document) === null ? compileQuery(schema, document, operationName) : null;
      compiled = made !== null && isCompiledQuery(made) ? made : null;
      operations.set(operationName, compiled);
      counts[compiled === null ? "notCompiled" : "compiled"]++;
    }
    return compiled ?? undefined;
  };
  return Object.assign(compiler, { stats: () => ({ ...counts, kept: compiledOf.size }) });
}
