/**
 * The columns a list must read for what the query selects of its items: a page of jobs that asks for six fields
 * reads six columns, not the job's twenty-five (reading and converting every column cost more than finding the
 * rows, issue #16). A field that a resolver computes names the columns it computes from; any other field is the
 * column of its name. The key columns are always read: the resolvers, the response cache and the cursors use them.
 */
import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from "graphql";

/** Per entity: its key columns, and the columns each computed or renamed field reads. */
const ENTITY_COLUMNS: Record<string, { keys: string[]; computed: Record<string, string[]> }> = {
  Job: {
    keys: ["id"],
    computed: {
      circuit: ["circuitId"],
      currentPrice: ["status", "minFee", "maxFee", "rampStart", "rampDuration", "expiresAt"],
      events: [],
    },
  },
  JobEvent: { keys: ["id", "jobId"], computed: { job: [] } },
  Prover: { keys: ["address"], computed: { id: [] } },
};

/** The fields a selection set asks for, through its fragments (inline or spread, to any depth). */
function fieldsOf(
  set: SelectionSetNode | undefined,
  fragments: Record<string, FragmentDefinitionNode>,
  into: FieldNode[] = [],
): FieldNode[] {
  for (const s of set?.selections ?? []) {
    if (s.kind === "Field") into.push(s);
    else
      fieldsOf(s.kind === "InlineFragment" ? s.selectionSet : fragments[s.name.value]?.selectionSet, fragments, into);
  }
  return into;
}

/** The names of the fields selected under the resolver's field nodes, at `path` inside them (e.g. ["nodes"]). */
function selectedFields(info: GraphQLResolveInfo, path: string[]): Set<string> {
  let sets = info.fieldNodes.map((n) => n.selectionSet);
  for (const step of path)
    sets = sets.flatMap((set) =>
      fieldsOf(set, info.fragments)
        .filter((f) => f.name.value === step)
        .map((f) => f.selectionSet),
    );
  return new Set(sets.flatMap((set) => fieldsOf(set, info.fragments).map((f) => f.name.value)));
}

/** The columns of `entity` that the items selected by `info` (at `path`) need, keys first. */
export function selectedColumns(entity: string, info: GraphQLResolveInfo, path: string[] = []): string[] {
  const { keys, computed } = ENTITY_COLUMNS[entity];
  const columns = new Set<string>();
  for (const field of selectedFields(info, path)) {
    if (field.startsWith("__")) continue;
    for (const column of computed[field] ?? [field]) if (!keys.includes(column)) columns.add(column);
  }
  // In one order whatever the query's order: one SQL text, one prepared statement, per set of columns.
  return [...keys, ...[...columns].sort()];
}
