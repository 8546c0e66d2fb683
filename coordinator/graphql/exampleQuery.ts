/**
 * The query a newcomer sees first: GraphiQL opens with it, and `npm start` prints it (scripts/devnetBanner.ts).
 * The newest jobs with their price ramps (the price a claim would lock now, and the price a claim locked), their
 * histories, their circuits' going prices, and the market's totals.
 */
export const EXAMPLE_QUERY = `{ jobs(first: 10) { nodes { id status minFee maxFee currentPrice lockedPrice assignee
    circuit { name medianLockedPrice } events { kind prover price blockNumber } } }
  marketStats(id: "market") { open claimed proved feesPaid requesterSavings } }`;
