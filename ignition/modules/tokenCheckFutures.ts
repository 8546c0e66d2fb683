/**
 * The deployment check on the staking token (contracts/deploy/TokenTransferProbe.sol): the deployer approves a
 * probe for a small amount, and the probe pulls it with transferFrom and sends it back with transfer, reverting
 * with a named error if either way moves a different amount than asked. The market's token is fixed at
 * construction, and the market checks only inbound pulls at runtime, so a token that charges extra on the way out
 * has to be refused here, before any market exists: every market future waits on this check.
 */
import type {
  AddressResolvableFuture,
  ContractCallFuture,
  Future,
  IgnitionModuleBuilder,
  ModuleParameterRuntimeValue,
} from "@nomicfoundation/ignition-core";

/**
 * What the probe moves, in the token's base units, unless the `tokenProbeAmount` parameter says otherwise: one
 * token at 6 decimals, a dust amount at 18, and large enough that a fee of 0.01% or more does not round to zero.
 */
export const DEFAULT_TOKEN_PROBE_AMOUNT = 1_000_000n;

export type TokenAddress = string | AddressResolvableFuture | ModuleParameterRuntimeValue<string>;

/** The probe amount (parameter `tokenProbeAmount`): the deployer must hold this much of the token. */
export function tokenProbeAmount(m: IgnitionModuleBuilder): ModuleParameterRuntimeValue<bigint> {
  return m.getParameter("tokenProbeAmount", DEFAULT_TOKEN_PROBE_AMOUNT);
}

/**
 * @param deployerFunded futures after which the deployer holds the probe amount (a mint, on a devnet)
 * @returns the probe's check: a market deployed `after` it exists only on a token that passed
 */
export function tokenTransferCheck(
  m: IgnitionModuleBuilder,
  token: TokenAddress,
  deployerFunded: Future[] = [],
): ContractCallFuture<string, string> {
  const amount = tokenProbeAmount(m);
  const probe = m.contract("TokenTransferProbe");
  // Any ERC-20's ABI will do for approve; this interface is built for off-chain code already (hardhat.config.ts).
  const erc20 = m.contractAt("IERC20Metadata", token, { id: "StakingToken" });
  const approved = m.call(erc20, "approve", [probe, amount], { id: "StakingToken_approveProbe" });
  return m.call(probe, "check", [erc20, amount], {
    id: "TokenTransferProbe_check",
    after: [approved, ...deployerFunded],
  });
}
