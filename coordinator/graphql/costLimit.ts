/**
 * A validation rule that refuses queries whose estimated cost is above `max`, before any resolver runs. Each field
 * costs 1, and what is selected under a list costs once per item it can return: `first` for the paged lists (the
 * page cap when `first` is a variable, since validation does not see variables; the schema default otherwise),
 * and a fixed estimate for the unpaged lists. So `jobs(first: 100) { nodes { events { ... } } }` is priced as the
 * hundred histories it may read, which a depth limit alone would let through.
 */
import {
  type ASTVisitor,
  type FieldNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
} from "graphql";

export interface CostModel {
  /** Paged fields (with a `first` argument) and the page size they get when `first` is left out. */
  pagedDefault: Record<string, number>;
  /** The largest page (what a variable `first` may be). */
  maxPage: number;
  /** Unpaged list fields and how many items each is priced at. */
  listEstimate: Record<string, number>;
}

function multiplier(field: FieldNode, model: CostModel): number {
  const name = field.name.value;
  if (name in model.pagedDefault) {
    const first = field.arguments?.find((a) => a.name.value === "first");
    if (first === undefined) return model.pagedDefault[name];
    return first.value.kind === Kind.INT ? Number(first.value.value) : model.maxPage;
  }
  return model.listEstimate[name] ?? 1;
}

function costOf(selectionSet: SelectionSetNode | undefined, context: ValidationContext, model: CostModel): number {
  if (selectionSet === undefined) return 0;
  let cost = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      cost += 1 + multiplier(selection, model) * costOf(selection.selectionSet, context, model);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      cost += costOf(selection.selectionSet, context, model);
    } else {
      cost += costOf(context.getFragment(selection.name.value)?.selectionSet, context, model);
    }
  }
  return cost;
}

export function costLimit(max: number, model: CostModel) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(node) {
      const cost = costOf(node.selectionSet, context, model);
      if (cost > max)
        context.reportError(
          new GraphQLError(
            `query cost ${cost} exceeds the limit of ${max}: ask for smaller pages (first) or fewer nested lists`,
            { nodes: [node], extensions: { code: "QUERY_TOO_COSTLY", cost, limit: max } },
          ),
        );
    },
  });
}
