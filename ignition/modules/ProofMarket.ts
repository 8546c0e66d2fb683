/**
 * A public deployment on an existing ERC-20 (parameter `token`), with every market parameter overridable:
 *
 *   npx hardhat ignition deploy ignition/modules/ProofMarket.ts --network sepolia --verify \
 *     --parameters ignition/parameters/sepolia.json
 *
 * The token is checked first (tokenCheckFutures.ts): the deployer must hold `tokenProbeAmount` base units of it
 * (a small default there), which the check moves to a probe and back; a token that moves a different amount than
 * asked either way stops the deployment before the market exists.
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { marketFuture } from "./marketFutures.ts";

export default buildModule("ProofMarket", (m) => {
  const market = marketFuture(m, m.getParameter<string>("token"));
  return { market };
});
