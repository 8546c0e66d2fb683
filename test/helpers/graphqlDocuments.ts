/**
 * Every GraphQL document a user of the project meets: the README's (its ```graphql blocks and the queries of its
 * curl commands) and those the project's own clients send (string literals in the source outside test/ that parse
 * as a GraphQL operation: the requester's quote, the query `npm start` prints and GraphiQL opens with, the
 * benchmark's). Found by reading the files, so that a query added later is checked without being listed here.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { buildSchema, type DocumentNode, Kind, parse } from "graphql";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { deriveQueryApi } from "../../coordinator/graphql/graphNodeApi.ts";
import { coordinatorTypeDefs } from "../../coordinator/graphql/yoga.ts";

export interface FoundDocument {
  /** Where it was found: "README.md:123" or a source file and line. */
  where: string;
  text: string;
  document: DocumentNode;
}

function tryParse(text: string): DocumentNode | null {
  try {
    const document = parse(text);
    const ok = document.definitions.every(
      (d) => d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION,
    );
    return ok && document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION) ? document : null;
  } catch {
    return null;
  }
}

const lineOf = (text: string, index: number) => text.slice(0, index).split("\n").length;

export function readmeDocuments(): FoundDocument[] {
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const found: FoundDocument[] = [];
  for (const m of readme.matchAll(/```graphql\n([\s\S]*?)```/g)) {
    const document = tryParse(m[1]);
    if (document === null) throw new Error(`README.md:${lineOf(readme, m.index)}: a graphql block that does not parse`);
    found.push({ where: `README.md:${lineOf(readme, m.index)}`, text: m[1], document });
  }
  // curl -d '{"query":"..."}'
  for (const m of readme.matchAll(/-d '(\{"query":[^']*\})'/g)) {
    const text = (JSON.parse(m[1]) as { query: string }).query;
    const document = tryParse(text);
    if (document === null) throw new Error(`README.md:${lineOf(readme, m.index)}: a curl query that does not parse`);
    found.push({ where: `README.md:${lineOf(readme, m.index)}`, text, document });
  }
  return found;
}

/** The folders of the project's own code that talk to a GraphQL API (everything but the tests and the contracts). */
const CLIENT_FOLDERS = ["requester", "prover-worker", "scripts", "coordinator", "bench", "dev", "sim", "common", "bin"];

function sourceFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === "node_modules" || entry.name === "generated") continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.(ts|js)$/.test(entry.name)) out.push(full);
    }
  };
  walk(path.join(REPO_ROOT, folder));
  return out;
}

/**
 * Whether a literal that parses as an operation is one: it says `query` or `subscription`, or its first field is one
 * of the APIs' root fields (so "{proof}" in a message is not taken for a query).
 */
function asksAnApi(document: DocumentNode): boolean {
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION)!;
  if (operation.loc!.source.body.trimStart().match(/^(query|subscription)\b/)) return true;
  const first = operation.selectionSet.selections[0];
  return first?.kind === Kind.FIELD && rootFields().has(first.name.value);
}

let roots: Set<string> | undefined;
function rootFields(): Set<string> {
  if (roots === undefined) {
    const read = (file: string) => readFileSync(path.join(REPO_ROOT, file), "utf8");
    const names = [coordinatorTypeDefs(), deriveQueryApi(read("subgraph/schema.graphql"))].flatMap((sdl) => {
      const schema = buildSchema(sdl);
      return [schema.getQueryType(), schema.getSubscriptionType()].flatMap((t) =>
        t ? Object.keys(t.getFields()) : [],
      );
    });
    roots = new Set(names);
  }
  return roots;
}

export function clientDocuments(): FoundDocument[] {
  const found: FoundDocument[] = [];
  for (const file of CLIENT_FOLDERS.flatMap(sourceFiles)) {
    const source = readFileSync(file, "utf8");
    // Template and string literals that start like an operation: `{ field`, `query`, `subscription`.
    const literals = [
      ...[...source.matchAll(/`((?:query|subscription)\b[^`]*|\{\s*[_A-Za-z][^`]*)`/g)].map((m) => ({ m, text: m[1] })),
      ...[...source.matchAll(/"((?:query|subscription)\b(?:[^"\\]|\\.)*|\{\s*[_A-Za-z](?:[^"\\]|\\.)*)"/g)].map(
        (m) => ({
          m,
          text: JSON.parse(m[0]) as string,
        }),
      ),
    ];
    for (const { m, text } of literals) {
      if (text.includes("${")) continue; // built from pieces: checked where it is used
      const document = tryParse(text);
      if (document === null || !asksAnApi(document)) continue;
      found.push({ where: `${path.relative(REPO_ROOT, file)}:${lineOf(source, m.index)}`, text, document });
    }
  }
  return found;
}
