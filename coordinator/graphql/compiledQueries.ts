/**
 * Query documents compiled to JavaScript (graphql-jit) for the direct executor (yoga.ts). graphql-js walks a
 * document anew for every answer, and for every field of every row it builds the field's arguments and resolve info:
 * on the all-distinct GraphQL bench (issue #16) that was most of what a miss allocated (2.2 GiB in 6 s, 70% of it in
 * graphql-js's execution) and a fifth of the server's time. A compiled document does that work once.
 *
 * graphql-jit generates code from the document, so what it is given is narrowed to what is safe and pays; anything
 * else (and anything compileQuery refuses, or an answer with an error) is executed by graphql-js as before:
 * - no string literal: graphql-jit writes literal arguments into its code through a JSON.stringify that turns a
 *   string holding one of its markers (`"__MAGIC_DATE__…"`) into JavaScript, so a string literal could run code on
 *   the coordinator. What is left of a literal is names (checked against the schema), numbers, booleans and null;
 *   strings come as variables, which are data to the compiled code;
 * - variables that are scalars or enums (or lists of them): graphql-jit compiles the coercion of an input-object
 *   variable by unrolling its type, and the filters nest each other without end (Job_filter has `circuit_:
 *   Circuit_filter`, which has `jobs_: Job_filter`): `query($w: Job_filter)` took 4 GiB and then the process down;
 * - every variable the operation declares given in the request: graphql-jit puts null where a variable left out
 *   sits in an input object (`where: { status: $s }` without `s` filters on a null status; graphql-js leaves the
 *   field out), and clients leave out variables they have no value for;
 * - no directives: graphql-jit's own documentation says its default @skip/@include is not right in fragment spreads;
 * - one operation, at most MAX_COMPILED_FIELDS fields (each fragment spread counted as its fields) and
 *   MAX_COMPILED_NODES syntax nodes: compiling runs on the event loop, and a document a hundred lists wide took
 *   139 ms (4,000 variables in one list, 56 to 200 ms);
 * - from its second asking: compiling takes a few milliseconds, ten executions' worth, and a query asked once (the
 *   ones an explorer types) is executed by graphql-js.
 */
import {
  BREAK,
  type DocumentNode,
  type GraphQLSchema,
  getNamedType,
  isInputObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  visit,
} from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";

/** How often a document is asked for before it is compiled (the first askings are executed by graphql-js). */
export const COMPILE_FROM_ASKING = 2;
/**
 * What a compiled document may hold: compiling either many took about 4 ms here (fourteen filtered lists, 419 nodes).
 * The README's and the clients' queries hold 32 fields and 81 nodes at most.
 */
export const MAX_COMPILED_FIELDS = 100;
export const MAX_COMPILED_NODES = 400;
/**
 * How many documents are kept compiled (the most recently asked): a compiled document holds its generated code,
 * about 0.1 MiB for a page of jobs with their circuits and histories (1,000 took 95 MiB of heap), and the
 * coordinator's memory goal is 300 MiB. A client's own queries are a few dozen texts; past this many, the least
 * recently asked is compiled again when it is next asked.
 */
export const KEPT_COMPILED = 100;

/** The fields a compiled document would hold: its operation's, with every fragment spread counted where it is. */
function fieldsCompiled(document: DocumentNode, operation: OperationDefinitionNode): number {
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
  return count(operation.selectionSet);
}

/** Why a document is executed by graphql-js however often it is asked; null when it may be compiled. */
export function notCompiled(schema: GraphQLSchema, document: DocumentNode): string | null {
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) return "it holds more than one operation";
  let nodes = 0;
  let reason: string | null = null;
  visit(document, {
    enter(node) {
      if (++nodes > MAX_COMPILED_NODES) reason = `it has more than ${MAX_COMPILED_NODES} syntax nodes`;
      else if (node.kind === Kind.STRING) reason = "it has a string literal (strings may come as variables)";
      else if (node.kind === Kind.DIRECTIVE) reason = `it has the directive @${node.name.value}`;
      else if (node.kind === Kind.VARIABLE_DEFINITION) {
        let type = node.type;
        while (type.kind !== Kind.NAMED_TYPE) type = type.type;
        const named = schema.getType(type.name.value);
        if (named && isInputObjectType(getNamedType(named)))
          reason = `variable $${node.variable.name.value} is an input object`;
      }
      return reason === null ? undefined : BREAK;
    },
  });
  if (reason === null && fieldsCompiled(document, operations[0]) > MAX_COMPILED_FIELDS)
    reason = `it selects more than ${MAX_COMPILED_FIELDS} fields`;
  return reason;
}

export interface QueryCompiler {
  /**
   * The document compiled, once it has been asked for often enough and may be, when the request gives every
   * variable it declares; else undefined (execute it with graphql-js). A document is one the caller keeps: the same
   * text, the same object.
   */
  (document: DocumentNode, variables: Record<string, unknown>): CompiledQuery | undefined;
  /** Documents compiled and documents found not compilable, since the start; how many are kept compiled now. */
  stats(): { compiled: number; notCompiled: number; kept: number };
}

interface Compiled {
  query: CompiledQuery;
  variables: string[];
}

export function createQueryCompiler(
  schema: GraphQLSchema,
  { compileFrom = COMPILE_FROM_ASKING, kept = KEPT_COMPILED } = {},
): QueryCompiler {
  // What is known of a document for as long as its caller keeps it (never longer: a document may be megabytes):
  // how often it was asked (up to compileFrom), and whether it was found not compilable.
  const asked = new WeakMap<DocumentNode, number>();
  const refused = new WeakSet<DocumentNode>();
  // The documents compiled, small ones (MAX_COMPILED_NODES), kept here with their code. A Map keeps insertion
  // order, so the most recently asked document is moved last and the first is the one to drop.
  const compiledOf = new Map<DocumentNode, Compiled>();
  const counts = { compiled: 0, notCompiled: 0 };
  const compile = (document: DocumentNode): Compiled | null => {
    const made = notCompiled(schema, document) === null ? compileQuery(schema, document) : null;
    if (made === null || !isCompiledQuery(made)) return null;
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
    return { query: made, variables: (operation.variableDefinitions ?? []).map((v) => v.variable.name.value) };
  };
  const compiler = (document: DocumentNode, variables: Record<string, unknown>) => {
    const times = Math.min(compileFrom, (asked.get(document) ?? 0) + 1);
    asked.set(document, times);
    if (times < compileFrom || refused.has(document)) return undefined;
    let compiled = compiledOf.get(document);
    if (compiled !== undefined) compiledOf.delete(document);
    else {
      const made = compile(document);
      counts[made === null ? "notCompiled" : "compiled"]++;
      if (made === null) return void refused.add(document);
      compiled = made;
      if (compiledOf.size >= kept) compiledOf.delete(compiledOf.keys().next().value!);
    }
    compiledOf.set(document, compiled);
    return compiled.variables.every((name) => Object.hasOwn(variables, name)) ? compiled.query : undefined;
  };
  return Object.assign(compiler, { stats: () => ({ ...counts, kept: compiledOf.size }) });
}
