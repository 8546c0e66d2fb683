/**
 * A validation rule that refuses a selection asking for one response key many times (`{ a: job(id: "1") { id }
 * a: job(id: "1") { id } … }`). Such repeats add nothing to the answer (a key is answered once), but graphql's rule
 * that checks repeated fields can be merged compares them pairwise, and past its work budget answers only
 * "Validation aborted.", which names no cause. This rule runs first and says what to change.
 */
import { type ASTVisitor, GraphQLError, Kind, type ValidationContext } from "graphql";

/** How many times one response key may appear in one selection set. */
export const MAX_KEY_REPEATS = 10;

export function repeatLimit(maxRepeats = MAX_KEY_REPEATS) {
  return (context: ValidationContext): ASTVisitor => ({
    SelectionSet(node) {
      const counts = new Map<string, number>();
      for (const selection of node.selections)
        if (selection.kind === Kind.FIELD) {
          const key = selection.alias?.value ?? selection.name.value;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
      for (const [key, times] of counts)
        if (times > maxRepeats)
          context.reportError(
            new GraphQLError(
              `"${key}" is asked ${times} times in one selection (at most ${maxRepeats}): a response key is answered ` +
                "once, so ask for it once (or give each copy an alias of its own, which the cost limit counts)",
              { nodes: [node], extensions: { code: "REPEATED_FIELD", key, times, limit: maxRepeats } },
            ),
          );
    },
  });
}
