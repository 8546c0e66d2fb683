/**
 * The query a newcomer sees first: GraphiQL opens with it, and `npm start` prints it (scripts/devnetBanner.ts).
 * The newest jobs with their histories, and the market's totals.
 */
export const EXAMPLE_QUERY = `{ jobs(first: 10) { nodes { id status fee assignee circuit { name } events { kind prover blockNumber } } }
  marketStats(id: "market") { open claimed proved feesPaid } }`;
