/**
 * A public deployment on an existing ERC-20 (parameter `token`), with every market parameter overridable:
 *
 *   npx hardhat ignition deploy ignition/modules/ProofMarket.ts --network sepolia --verify \
 *     --parameters ignition/parameters/sepolia.json
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { marketFuture } from "./marketFutures.ts";

export default buildModule("ProofMarket", (m) => {
  const market = marketFuture(m, m.getParameter<string>("token"));
  return { market };
});
