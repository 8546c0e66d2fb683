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
 * - every variable the operation declares given in the request: graphql-jit puts null where a variable left out
 *   sits in an input object (`where: { status: $s }` without `s` filters on a null status; graphql-js leaves the
 *   field out), and clients leave out variables they have no value for;
 * - no directives: graphql-jit's own documentation says its default @skip/@include is not right in fragment spreads;
 * - small: one operation, at most MAX_COMPILED_TEXT characters, MAX_COMPILED_FIELDS fields (each fragment spread
 *   counted as its fields) and MAX_COMPILED_NODES syntax nodes. Compiling runs on the event loop (a document a
 *   hundred lists wide took 139 ms), and the code it makes repeats the document's names (a 90 KB document of long
 *   aliases kept 1.8 MiB);
 * - from its second asking: compiling takes a few milliseconds, ten executions' worth, and a query asked once (the
 *   ones an explorer types) is executed by graphql-js.
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

/** How often a document is asked for before it is compiled (the first askings are executed by graphql-js). */
export const COMPILE_FROM_ASKING = 2;
/**
 * What a compiled document may hold: compiling either many fields or many nodes took about 4 ms here (fourteen
 * filtered lists, 419 nodes). The README's and the clients' queries hold 32 fields, 81 nodes and 1,100 characters at
 * most.
 */
export const MAX_COMPILED_TEXT = 4096;
export const MAX_COMPILED_FIELDS = 100;
export const MAX_COMPILED_NODES = 400;
/**
 * How many documents are kept compiled (the most recently asked), with their code; a client's own queries are a few
 * dozen texts. Past this many, the least recently asked is compiled again when it is next asked. A hundred documents
 * of ten lists under long aliases (2.7 KB each) took 22 MiB of heap with their parsed texts.
 */
export const KEPT_COMPILED = 100;

const PLAIN_NAME = /^[A-Za-z][A-Za-z0-9]*$/;

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

/**
 * Why a document (of a valid query's text) is executed by graphql-js however often it is asked; null when it may be
 * compiled.
 */
export function notCompiled(schema: GraphQLSchema, document: DocumentNode, text: string): string | null {
  if (text.length > MAX_COMPILED_TEXT) return `it is longer than ${MAX_COMPILED_TEXT} characters`;
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  if (operations.length !== 1) return "it holds more than one operation";
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
          let type = node.type;
          while (type.kind !== Kind.NAMED_TYPE) type = type.type;
          if (reason === null && isInputObjectType(schema.getType(type.name.value)))
            reason = `variable $${name} is an input object`;
        }
        return reason === null ? undefined : BREAK;
      },
    }),
  );
  if (reason === null && fieldsCompiled(document, operations[0]) > MAX_COMPILED_FIELDS)
    reason = `it selects more than ${MAX_COMPILED_FIELDS} fields`;
  return reason;
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
}

export function createQueryCompiler(
  schema: GraphQLSchema,
  { compileFrom = COMPILE_FROM_ASKING, kept = KEPT_COMPILED } = {},
): QueryCompiler {
  // What is known of a document for as long as its caller keeps it (never longer: a document may be megabytes):
  // how often it was asked (up to compileFrom), and whether it was found not compilable.
  const asked = new WeakMap<DocumentNode, number>();
  const refused = new WeakSet<DocumentNode>();
  // The documents compiled, small ones, kept here with their code. A Map keeps insertion order, so the most recently
  // asked document is moved last and the first is the one to drop.
  const compiledOf = new Map<DocumentNode, Compiled>();
  const counts = { compiled: 0, notCompiled: 0 };
  const compile = (document: DocumentNode, text: string): Compiled | null => {
    const made = notCompiled(schema, document, text) === null ? compileQuery(schema, document) : null;
    if (made === null || !isCompiledQuery(made)) return null;
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
    return { query: made, variables: (operation.variableDefinitions ?? []).map((v) => v.variable.name.value) };
  };
  const compiler = (document: DocumentNode, text: string, variables: Record<string, unknown>) => {
    const times = Math.min(compileFrom, (asked.get(document) ?? 0) + 1);
    asked.set(document, times);
    if (times < compileFrom || refused.has(document)) return undefined;
    let compiled = compiledOf.get(document);
    if (compiled !== undefined) compiledOf.delete(document);
    else {
      const made = compile(document, text);
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
