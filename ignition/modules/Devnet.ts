/**
 * A development or testnet deployment in one module: a test token anyone may mint, the market on it, and every
 * example circuit registered. `npm start` deploys this to its local node; on a testnet it gives a market that
 * needs no existing token.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { marketFuture, registerExampleCircuits } from "./marketFutures.ts";

export default buildModule("Devnet", (m) => {
  const token = m.contract("TestToken", ["ProofMarket Test Token", "PMT"]);
  const market = marketFuture(m, token);
  registerExampleCircuits(m, market);
  return { token, market };
});
