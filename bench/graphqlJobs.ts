/**
 * The jobs the GraphQL benchmark indexes, and the market activity it simulates while it runs: one place for the
 * rows, shared by the seeding (bench/graphql.ts) and the server's simulated indexer commits (bench/graphqlServer.ts).
 */
import { testJob } from "../dev/coordinatorRows.ts";

export const STATUSES = ["Open", "Claimed", "Proved", "Cancelled", "Expired"];
export const FIRST_POSTED_AT = 1_700_000_000;

/** The n-th of the benchmark's addresses (requesters 0 to 96, provers 0x100 to 0x10c), as 20 bytes of hex. */
export const benchAddress = (n: number) => `0x${n.toString(16).padStart(40, "0")}`;

/** The escrows: spread over [1, MAX_FEE] by a fixed scramble of the job's number, not rising with it. */
export const MAX_FEE = 2_000_000;
const escrowOf = (i: number) => 1 + ((Math.imul(i, 2654435761) >>> 0) % MAX_FEE);

/** Job `i` of the seeded history (statuses in turn), or a newly posted one when `status` is given. */
export function benchJobRow(i: number, status = STATUSES[i % 5], postedAt = FIRST_POSTED_AT + i) {
  const maxFee = escrowOf(i);
  return {
    ...testJob({
      id: String(i),
      circuitId: 1,
      requester: benchAddress(i % 97),
      status,
      // A ramp, as most jobs are posted: from half the escrow, over ten minutes. Escrows vary as a market's do:
      // were they to rise with the job's number, a fee bound above the newest ones would make a list by time scan a
      // whole status for rows that are not there (a client's `maxFee_gt` with a price it expects is not that).
      minFee: String(maxFee >> 1),
      maxFee: String(maxFee),
      rampDuration: 600,
      assignee: status === "Claimed" || status === "Proved" ? benchAddress(0x100 + (i % 13)) : null,
      postedAtBlock: i,
      postedAt,
    }),
    bond: "1",
    expiresAt: 2e9,
  };
}
