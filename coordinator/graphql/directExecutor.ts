/**
 * Answers a JSON POST body that holds a valid query with graphql-js directly, on its document parsed and validated
 * once: what yoga's fetch adaptation, envelop and per-request checks cost is about a third of a miss (issue #16,
 * the all-distinct bench); a document asked for again is executed compiled (compiledQueries.ts). Returns the
 * answer's JSON text only when the query was answered without an error; anything else (a body that is not one
 * query, a query not valid, a mutation or subscription, an error on the way) gives null, and the caller
 * (httpHandler.ts) asks yoga, which answers it as it always has (error masking, status codes, headers).
 */
import {
  type DocumentNode,
  execute,
  getOperationAST,
  type GraphQLError,
  type GraphQLSchema,
  parse,
  validate,
} from "graphql";
import { keptByTextLength } from "../recentlyUsed.ts";
import { compiledAnswer, createQueryCompiler } from "./compiledQueries.ts";
import type { ReadSet } from "./reads.ts";

/**
 * Parsed documents are kept by number and by the length of their texts: parsed without locations (an error is yoga's
 * to answer, and it parses the text again), a valid document's syntax tree is 25 to 40 times its text, so a thousand
 * texts of 100 KB, the largest body the endpoint reads, would have kept 4 GiB. This keeps the cache under about
 * 10 MiB; a client's queries are a few hundred characters each, so the thousand most recent fit.
 */
export const KEPT_DOCUMENTS = 1000;
export const KEPT_DOCUMENT_TEXT = 256 << 10;

/** What a request body may hold to be answered here; anything else goes to yoga. */
const REQUEST_KEYS = new Set(["query", "variables", "operationName"]);

export function directExecutor<Context>(
  schema: GraphQLSchema,
  refusedByLimits: (document: DocumentNode) => readonly GraphQLError[],
  contextFor: (reads: ReadSet) => Context,
) {
  // Query texts seen, parsed and found valid, or false (not valid, or not parsed).
  const documents = keptByTextLength<DocumentNode | false>(KEPT_DOCUMENTS, KEPT_DOCUMENT_TEXT);
  const documentOf = (text: string): DocumentNode | null => {
    let document = documents.get(text);
    if (document === undefined) {
      try {
        const parsed = parse(text, { noLocation: true });
        document = refusedByLimits(parsed).length === 0 && validate(schema, parsed).length === 0 && parsed;
      } catch {
        document = false;
      }
      documents.set(text, document);
    }
    return document || null;
  };
  const compiledQueryOf = createQueryCompiler(schema);
  const executeQuery = async (body: string, reads: ReadSet): Promise<string | null> => {
    let request: { query?: unknown; variables?: unknown; operationName?: unknown; extensions?: unknown };
    try {
      request = JSON.parse(body);
    } catch {
      return null;
    }
    if (request === null || typeof request !== "object" || typeof request.query !== "string") return null;
    // What yoga refuses (a parameter it does not know, an operationName or variables of the wrong type) or reads
    // itself (extensions) is yoga's to answer.
    if (Object.keys(request).some((key) => !REQUEST_KEYS.has(key))) return null;
    if (request.operationName != null && typeof request.operationName !== "string") return null;
    const operationName = request.operationName ?? undefined;
    const variables = request.variables ?? undefined;
    if (variables !== undefined && (typeof variables !== "object" || Array.isArray(variables))) return null;
    const document = documentOf(request.query);
    if (document === null || getOperationAST(document, operationName)?.operation !== "query") return null;
    const given = (variables ?? {}) as Record<string, unknown>;
    // yoga reads a body's JSON without a `__proto__` key (against prototype pollution), so a variable of that name is
    // not given there: such a request is yoga's, so that both answer it alike.
    if (Object.hasOwn(given, "__proto__")) return null;
    const compiled = compiledQueryOf(document, request.query, given);
    const result = compiled
      ? await compiledAnswer(compiled, contextFor(reads), given)
      : await execute({ schema, document, operationName, variableValues: given, contextValue: contextFor(reads) });
    if (result.errors !== undefined) return null;
    reads.answered = true;
    return JSON.stringify(result);
  };
  return {
    executeQuery,
    compiledQueries: compiledQueryOf.stats,
    keptDocuments: () => ({ count: documents.size, textLength: documents.calculatedSize }),
  };
}
