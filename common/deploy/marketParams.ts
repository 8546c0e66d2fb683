/**
 * Default market parameters for development deployments (the devnet, `npm start`, the Devnet Ignition module).
 * Public deployments override them through Ignition parameters; the contract enforces the hard caps.
 */
import { parseEther } from "ethers";

export const DEV_MARKET_PARAMS = {
  keeperShareBps: 1_000n,
  rewardShareBps: 3_000n,
  treasuryShareBps: 1_000n,
  abandonSlashBps: 2_500n,
  minProvingWindow: 30n,
  maxProvingWindow: 24n * 3600n,
  minBond: parseEther("1"),
  paused: false,
};
export const DEV_UNBONDING_DELAY = 7n * 24n * 3600n;
