/**
 * A validation rule that refuses queries nested deeper than `max` fields, before any resolver runs: a client
 * cannot make the coordinator walk an arbitrarily deep query.
 */
import { type ASTVisitor, GraphQLError, Kind, type SelectionSetNode, type ValidationContext } from "graphql";

function depthOf(selectionSet: SelectionSetNode | undefined, fragments: ValidationContext): number {
  if (selectionSet === undefined) return 0;
  let deepest = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      deepest = Math.max(deepest, 1 + depthOf(selection.selectionSet, fragments));
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      deepest = Math.max(deepest, depthOf(selection.selectionSet, fragments));
    } else {
      const fragment = fragments.getFragment(selection.name.value);
      deepest = Math.max(deepest, depthOf(fragment?.selectionSet, fragments));
    }
  }
  return deepest;
}

export function depthLimit(max: number) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const depth = depthOf(node.selectionSet, context);
      if (depth > max)
        context.reportError(new GraphQLError(`query depth ${depth} exceeds the limit of ${max}`, { nodes: [node] }));
    },
  });
}
