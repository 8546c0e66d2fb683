/**
 * The introspection entry points. `__schema` and `__type` read the schema, not the database, so the depth and
 * cost limits price what sits under them with a budget of their own (depthLimit.ts, costLimit.ts): the standard
 * introspection query (GraphiQL's documentation explorer, codegen, client devtools) is far deeper than any data
 * query needs to be, and must not widen what a data query may ask.
 */
import type { FieldNode } from "graphql";

export function isIntrospectionRoot(field: FieldNode): boolean {
  return field.name.value === "__schema" || field.name.value === "__type";
}
