/**
 * The futures every ProofMarket deployment shares: the market itself (owner and treasury default to the deployer;
 * every parameter can be overridden), deployed only once its token has passed the transfer check
 * (tokenCheckFutures.ts), and the example circuits' verifiers and registrations. The modules build on these, so a
 * local node and a public chain run the same deployment code.
 */
import type { Future, IgnitionModuleBuilder } from "@nomicfoundation/ignition-core";
import { exampleCircuitRegistrations, NO_BATCH_VERIFIER } from "../../common/deploy/circuitRegistration.ts";
import { DEV_MARKET_PARAMS, DEV_UNBONDING_DELAY } from "../../common/deploy/marketParams.ts";
import { type TokenAddress, tokenTransferCheck } from "./tokenCheckFutures.ts";

/**
 * @param token the ERC-20's address: a deployed token's future or a module parameter.
 * @param deployerFunded futures after which the deployer holds the token check's probe amount.
 */
export function marketFuture(m: IgnitionModuleBuilder, token: TokenAddress, deployerFunded: Future[] = []) {
  const deployer = m.getAccount(0);
  const param = <K extends keyof typeof DEV_MARKET_PARAMS>(key: K) => m.getParameter(key, DEV_MARKET_PARAMS[key]);
  const tokenChecked = tokenTransferCheck(m, token, deployerFunded);
  return m.contract(
    "ProofMarket",
    [
      token,
      m.getParameter("owner", deployer),
      m.getParameter("treasury", deployer),
      m.getParameter("unbondingDelay", DEV_UNBONDING_DELAY),
      {
        keeperShareBps: param("keeperShareBps"),
        rewardShareBps: param("rewardShareBps"),
        treasuryShareBps: param("treasuryShareBps"),
        abandonSlashBps: param("abandonSlashBps"),
        minProvingWindow: param("minProvingWindow"),
        maxProvingWindow: param("maxProvingWindow"),
        minBond: param("minBond"),
        paused: false,
      },
    ],
    { after: [tokenChecked] },
  );
}

/** Deploys each example circuit's verifiers and registers it; registrations are chained so ids follow the list. */
export function registerExampleCircuits(m: IgnitionModuleBuilder, market: ReturnType<typeof marketFuture>): void {
  let previous: ReturnType<IgnitionModuleBuilder["call"]> | undefined;
  for (const r of exampleCircuitRegistrations()) {
    const verifier = m.contract(r.verifierContract, [], { id: `${r.key}_verifier` });
    const batchVerifier = r.batchVerifierContract
      ? m.contract(r.batchVerifierContract, [], { id: `${r.key}_batchVerifier` })
      : NO_BATCH_VERIFIER;
    previous = m.call(market, "registerCircuit", [r.entry(verifier, batchVerifier)], {
      id: `register_${r.key}`,
      after: previous ? [previous] : [],
    });
  }
}
