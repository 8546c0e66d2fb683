/**
 * A development or testnet deployment in one module: a test token anyone may mint, the market on it, and every
 * example circuit registered. `npm start` deploys this to its local node; on a testnet it gives a market that
 * needs no existing token. The deployer is minted the token check's probe amount first, which the check returns.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { marketFuture, registerExampleCircuits } from "./marketFutures.ts";
import { tokenProbeAmount } from "./tokenCheckFutures.ts";

export default buildModule("Devnet", (m) => {
  const token = m.contract("TestToken", ["ProofMarket Test Token", "PMT"]);
  const funded = m.call(token, "mint", [m.getAccount(0), tokenProbeAmount(m)], { id: "TestToken_mintProbeAmount" });
  const market = marketFuture(m, token, [funded]);
  registerExampleCircuits(m, market);
  return { token, market };
});
