/**
 * A validation rule that refuses queries nested deeper than `max` fields, before any resolver runs: a client
 * cannot make the coordinator walk an arbitrarily deep query. What sits under `__schema` and `__type` is measured
 * on its own against `introspectionMax` (introspection.ts), so the standard introspection query is answered while
 * the data fields beside it stay held to `max`.
 */
import { type ASTVisitor, GraphQLError, Kind, type SelectionSetNode, type ValidationContext } from "graphql";
import { isIntrospectionRoot } from "./introspection.ts";

interface Depths {
  /** The deepest chain of data fields. */
  data: number;
  /** The deepest chain under an introspection root, the root included. */
  introspection: number;
}

export function depthLimit(max: number, introspectionMax: number) {
  return (context: ValidationContext): ASTVisitor => {
    // A fragment is as deep wherever it is spread, so each is measured once: linear time however fragments nest.
    // A fragment that spreads itself (refused by graphql's own rule, which runs after the limits pass) counts 0 where
    // it recurs instead of recursing forever.
    const fragmentDepths = new Map<string, Depths>();
    function fragmentDepth(name: string): Depths {
      const known = fragmentDepths.get(name);
      if (known !== undefined) return known;
      fragmentDepths.set(name, { data: 0, introspection: 0 });
      const depths = depthsOf(context.getFragment(name)?.selectionSet);
      fragmentDepths.set(name, depths);
      return depths;
    }

    function depthsOf(selectionSet: SelectionSetNode | undefined): Depths {
      const deepest: Depths = { data: 0, introspection: 0 };
      for (const selection of selectionSet?.selections ?? []) {
        let inner: Depths;
        if (selection.kind === Kind.FIELD) {
          const below = depthsOf(selection.selectionSet);
          // Under an introspection root every field is the schema's, so all of it counts as introspection depth.
          inner = isIntrospectionRoot(selection)
            ? { data: 0, introspection: 1 + Math.max(below.data, below.introspection) }
            : { data: 1 + below.data, introspection: below.introspection };
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          inner = depthsOf(selection.selectionSet);
        } else {
          inner = fragmentDepth(selection.name.value);
        }
        deepest.data = Math.max(deepest.data, inner.data);
        deepest.introspection = Math.max(deepest.introspection, inner.introspection);
      }
      return deepest;
    }

    return {
      OperationDefinition(node) {
        const { data, introspection } = depthsOf(node.selectionSet);
        if (data > max)
          context.reportError(new GraphQLError(`query depth ${data} exceeds the limit of ${max}`, { nodes: [node] }));
        if (introspection > introspectionMax)
          context.reportError(
            new GraphQLError(`introspection depth ${introspection} exceeds the limit of ${introspectionMax}`, {
              nodes: [node],
            }),
          );
      },
    };
  };
}
