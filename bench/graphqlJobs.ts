/**
 * The jobs the GraphQL benchmark indexes, and the market activity it simulates while it runs: one place for the
 * rows, shared by the seeding (bench/graphql.ts) and the server's simulated indexer commits (bench/graphqlServer.ts).
 */
export const STATUSES = ["Open", "Claimed", "Proved", "Cancelled", "Expired"];
export const FIRST_POSTED_AT = 1_700_000_000;

/** Job `i` of the seeded history (statuses in turn), or a newly posted one when `status` is given. */
export function benchJobRow(i: number, status = STATUSES[i % 5], postedAt = FIRST_POSTED_AT + i) {
  return {
    id: String(i),
    circuitId: 1,
    requester: `0x${(i % 97).toString(16)}`,
    status,
    fee: String(i),
    bond: "1",
    provingWindow: 60,
    expiresAt: 2e9,
    inputsCommitment: "0xc",
    inputsHash: "0xh",
    inputsURI: "u",
    assignee: status === "Claimed" || status === "Proved" ? `0x${(i % 13).toString(16)}` : null,
    postedAtBlock: i,
    postedAt,
  };
}
