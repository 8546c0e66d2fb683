/**
 * The jobs the GraphQL benchmark indexes, and the market activity it simulates while it runs: one place for the
 * rows, shared by the seeding (bench/graphql.ts) and the server's simulated indexer commits (bench/graphqlServer.ts).
 */
import { testJob } from "../dev/coordinatorRows.ts";

export const STATUSES = ["Open", "Claimed", "Proved", "Cancelled", "Expired"];
export const FIRST_POSTED_AT = 1_700_000_000;

/** Job `i` of the seeded history (statuses in turn), or a newly posted one when `status` is given. */
export function benchJobRow(i: number, status = STATUSES[i % 5], postedAt = FIRST_POSTED_AT + i) {
  return {
    ...testJob({
      id: String(i),
      circuitId: 1,
      requester: `0x${(i % 97).toString(16)}`,
      status,
      // A ramp, as most jobs are posted: from half the escrow, over ten minutes.
      minFee: String(i),
      maxFee: String(2 * i),
      rampDuration: 600,
      assignee: status === "Claimed" || status === "Proved" ? `0x${(i % 13).toString(16)}` : null,
      postedAtBlock: i,
      postedAt,
    }),
    bond: "1",
    expiresAt: 2e9,
  };
}
