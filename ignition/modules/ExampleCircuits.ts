/** The example circuits (circuits/circuits.json) registered on a ProofMarket deployment, with their verifiers. */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import ProofMarketModule from "./ProofMarket.ts";
import { registerExampleCircuits } from "./marketFutures.ts";

export default buildModule("ExampleCircuits", (m) => {
  const { market } = m.useModule(ProofMarketModule);
  registerExampleCircuits(m, market);
  return { market };
});
