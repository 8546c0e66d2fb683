/**
 * A validation rule that refuses queries whose estimated cost is above `max`, before any resolver runs. Each field
 * costs 1 (an aggregate, `fieldCost`, what its work is worth: marketStats reads every job), every alias of a field
 * counts again, and what is selected under a list costs once per item it can return: `first` for the paged lists (the
 * largest page when `first` is a variable, since validation does not see variables; the default otherwise),
 * and a fixed estimate for the unpaged lists. So `jobs(first: 100) { events { ... } }` is priced as the
 * hundred histories it may read, which a depth limit alone would let through.
 *
 * What sits under `__schema` and `__type` (introspection.ts) is priced the same way with the introspection lists'
 * estimates and held to a budget of its own, so answering the standard introspection query leaves the data
 * budget as it is, and a query that repeats or nests introspection lists is still refused.
 */
import {
  type ASTVisitor,
  type FieldNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
} from "graphql";
import { isIntrospectionRoot } from "./introspection.ts";

export interface CostModel {
  /** Paged fields (with a `first` argument): the page they get when `first` is left out, and the largest (what a
   *  variable `first` may be). */
  paged: Record<string, { default: number; max: number }>;
  /** Unpaged list fields and how many items each is priced at. */
  listEstimate: Record<string, number>;
  /** Fields whose own work is more than a row's (aggregates) and what each costs; every other field costs 1. */
  fieldCost?: Record<string, number>;
  /**
   * Lists that may read far more rows than they return when filtered, sorted or skipped (`where`, `orderBy`,
   * `skip`: a scan and a sort of the whole table), and what that costs on top.
   */
  scanCost?: Record<string, number>;
}

export interface IntrospectionBudget {
  max: number;
  /** The introspection list fields (types, fields, args…) and how many items each is priced at. */
  listEstimate: Record<string, number>;
}

interface Costs {
  data: number;
  introspection: number;
}

function multiplier(field: FieldNode, model: CostModel): number {
  const name = field.name.value;
  const paged = model.paged[name];
  if (paged !== undefined) {
    const first = field.arguments?.find((a) => a.name.value === "first");
    if (first === undefined) return paged.default;
    return first.value.kind === Kind.INT ? Number(first.value.value) : paged.max;
  }
  return model.listEstimate[name] ?? 1;
}

const SCANNING_ARGUMENTS = ["where", "orderBy", "skip"];

/** A field asked this many times in one operation is named in a refusal: the likely cause. */
const REPEATS_WORTH_NAMING = 10;

/**
 * The field name asked most often in a selection, counting inline fragments' fields and each named fragment's once
 * (where it is first spread: a fragment spread a thousand times is priced, and named, by its cost, not walked again).
 */
function mostAskedField(
  selectionSet: SelectionSetNode,
  fragment: (name: string) => SelectionSetNode | undefined,
): [string, number] {
  const counts = new Map<string, number>();
  const walked = new Set<string>();
  const walk = (set: SelectionSetNode | undefined) => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        // What is under __schema and __type has a budget of its own: its `name`s are not the data's repeats.
        if (isIntrospectionRoot(selection)) continue;
        counts.set(selection.name.value, (counts.get(selection.name.value) ?? 0) + 1);
        walk(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) walk(selection.selectionSet);
      else if (!walked.has(selection.name.value)) {
        walked.add(selection.name.value);
        walk(fragment(selection.name.value));
      }
    }
  };
  walk(selectionSet);
  return [...counts].reduce((a, b) => (b[1] > a[1] ? b : a), ["", 0] as [string, number]);
}

export function costLimit(max: number, model: CostModel, introspection: IntrospectionBudget) {
  const introspectionModel: CostModel = { paged: {}, listEstimate: introspection.listEstimate };
  return (context: ValidationContext): ASTVisitor => {
    // A fragment costs the same wherever it is spread, so each is priced once per model: a document that spreads
    // fragments within fragments costs linear time here, not exponential. A fragment that spreads itself (refused
    // by graphql's own rule, which runs after the limits pass) counts 0 where it recurs instead of recursing forever.
    const fragmentCosts = new Map<CostModel, Map<string, Costs>>();
    function fragmentCost(name: string, pricing: CostModel): Costs {
      const known = fragmentCosts.get(pricing) ?? new Map<string, Costs>();
      fragmentCosts.set(pricing, known);
      const cached = known.get(name);
      if (cached !== undefined) return cached;
      known.set(name, { data: 0, introspection: 0 });
      const costs = costsOf(context.getFragment(name)?.selectionSet, pricing);
      known.set(name, costs);
      return costs;
    }

    /** The cost of a selection, split into its data part and its introspection part, each priced by its model. */
    function costsOf(selectionSet: SelectionSetNode | undefined, pricing: CostModel): Costs {
      const total: Costs = { data: 0, introspection: 0 };
      for (const selection of selectionSet?.selections ?? []) {
        let inner: Costs;
        if (selection.kind === Kind.FIELD) {
          const root = isIntrospectionRoot(selection);
          const below = costsOf(selection.selectionSet, root ? introspectionModel : pricing);
          const scans = selection.arguments?.some((a) => SCANNING_ARGUMENTS.includes(a.name.value)) ?? false;
          const own =
            (pricing.fieldCost?.[selection.name.value] ?? 1) +
            (scans ? (pricing.scanCost?.[selection.name.value] ?? 0) : 0);
          const cost = own + multiplier(selection, pricing) * (below.data + below.introspection);
          inner = root ? { data: 0, introspection: cost } : { data: cost, introspection: 0 };
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          inner = costsOf(selection.selectionSet, pricing);
        } else {
          inner = fragmentCost(selection.name.value, pricing);
        }
        total.data += inner.data;
        total.introspection += inner.introspection;
      }
      return total;
    }

    return {
      OperationDefinition(node) {
        const costs = costsOf(node.selectionSet, model);
        if (costs.data > max) {
          const [field, times] = mostAskedField(node.selectionSet, (name) => context.getFragment(name)?.selectionSet);
          const repeated =
            times >= REPEATS_WORTH_NAMING
              ? `; it asks for \`${field}\` ${times} times (each alias costs again): ask for it once, or split the query`
              : "";
          context.reportError(
            new GraphQLError(
              `query cost ${costs.data} exceeds the limit of ${max}: ask for smaller pages (first) or fewer nested lists${repeated}`,
              { nodes: [node], extensions: { code: "QUERY_TOO_COSTLY", cost: costs.data, limit: max } },
            ),
          );
        }
        if (costs.introspection > introspection.max)
          context.reportError(
            new GraphQLError(
              `introspection cost ${costs.introspection} exceeds the limit of ${introspection.max}: ask for the schema once, without nesting its lists`,
              {
                nodes: [node],
                extensions: { code: "QUERY_TOO_COSTLY", cost: costs.introspection, limit: introspection.max },
              },
            ),
          );
      },
    };
  };
}
