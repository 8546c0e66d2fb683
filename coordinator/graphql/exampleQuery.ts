/**
 * The query a newcomer sees first: GraphiQL opens with it, and `npm start` prints it (scripts/devnetBanner.ts).
 * The newest jobs with their price ramps (the price a claim would lock now, and the price a claim locked), their
 * histories, their circuits' going prices, and the market's totals. In The Graph's query shape, so that it runs on a
 * subgraph too but for `currentPrice`, which only the coordinator has (a subgraph's client computes it from the ramp).
 */
export const EXAMPLE_QUERY = `{ jobs(first: 10, orderBy: postedAt, orderDirection: desc) { id status minFee maxFee
    currentPrice lockedPrice assignee circuit { name medianLockedPrice } events { kind prover price blockNumber } }
  marketStats(id: "market") { open claimed proved feesPaid requesterSavings } }`;
