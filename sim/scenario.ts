/**
 * What a simulated market is made of: its parameters, its provers (each with a strategy, a speed and a price), its
 * requesters and the stream of jobs they post. `defaultScenario` is `npm run sim`'s; tests and the sweep derive
 * smaller or changed ones from it. Amounts are in the market token's base units (18 decimals), times in seconds.
 */
import { parseEther } from "ethers";
import { PARAMS } from "../dev/marketFixture.ts";

export type ProverStrategy =
  /** Claims when the price reaches its reservation (the worker's own decision and pricing), proves, submits. */
  | "honest"
  /** Claims whatever provable job it can afford as soon as it is offered, and never proves. */
  | "staller"
  /** Claims as an honest prover would, never proves, and abandons halfway through its window. */
  | "abandoner"
  /** Claims from one address, lets the claim lapse, reassigns it from a second address (the keeper's share) and
   *  claims the re-opened job there, at the price the slash raised, and proves it. */
  | "self-reassigner"
  /** Takes only re-opened jobs (their price raised by a slash's reward share), at its reservation, and proves them. */
  | "sniper";

export interface ProverSpec {
  name: string;
  strategy: ProverStrategy;
  /** Seconds one proof takes this prover. */
  provingSeconds: number;
  /** Proofs at a time. */
  slots: number;
  /** The worker's price settings: a floor, and a price per second of proving (token base units). */
  floor: bigint;
  perProvingSecond: bigint;
  stake: bigint;
}

export interface RequesterSpec {
  name: string;
  /** The jobs' maximum fee is drawn uniformly from this range; the minimum is a tenth of it (the CLI's default). */
  maxFee: [bigint, bigint];
  /** Seconds the price takes to rise from the minimum to the maximum. */
  rampSeconds: number;
  /** Relative rate of this requester's jobs among all. */
  weight: number;
  /** A griefer, and how: `unprovable-inputs`, its jobs' public inputs have no valid witness; `rug-pull`, it posts on a
   *  circuit of its own registered with a verifier that forwards to the real one until it is switched to rejecting
   *  everything (contracts/mocks/HostileVerifiers.sol RugPullVerifier), which it does once one of its jobs is
   *  claimed, so that the claimant's valid proof is refused and its bond slashed (the requester's share is its). */
  griefs?: "unprovable-inputs" | "rug-pull";
}

export interface MarketSettings {
  keeperShareBps: bigint;
  rewardShareBps: bigint;
  treasuryShareBps: bigint;
  abandonSlashBps: bigint;
}

export interface Scenario {
  seed: number;
  jobs: number;
  /** Mean seconds between two jobs (a Poisson stream). */
  meanArrivalSeconds: number;
  blockSeconds: number;
  provingWindow: number;
  /** Seconds from posting to expiry. */
  lifetime: number;
  bond: bigint;
  market: MarketSettings;
  provers: ProverSpec[];
  requesters: RequesterSpec[];
  /** Keepers reassign lapsed claims and expire old jobs, for the keeper's share of the slash. */
  keepers: number;
  /** Gas is paid at this price (wei per gas) and counted in tokens at `tokensPerEth`, as the worker's pricing does. */
  gasPrice: bigint;
  tokensPerEth: bigint;
  /** The worker's `trust.checkVerifierBytecode`: provers check each circuit's verifiers against the project's build of
   *  their zkey before serving it (prover-worker/src/pipeline/circuitCheck.ts), and so never serve a rug pull's. */
  checkVerifierBytecode: boolean;
  /** Distinct public-input sets, one real proof each, reused by every job with the same inputs. */
  inputSets: number;
}

const pmt = (n: number | string) => parseEther(String(n));

/** The deployed defaults: the devnet's parameters (dev/marketFixture.ts PARAMS). */
export const DEFAULT_MARKET: MarketSettings = {
  keeperShareBps: PARAMS.keeperShareBps,
  rewardShareBps: PARAMS.rewardShareBps,
  treasuryShareBps: PARAMS.treasuryShareBps,
  abandonSlashBps: PARAMS.abandonSlashBps,
};

export function defaultScenario(overrides: Partial<Scenario> = {}): Scenario {
  return {
    seed: 1,
    jobs: 500,
    meanArrivalSeconds: 24,
    blockSeconds: 12,
    provingWindow: 600,
    lifetime: 3_600,
    bond: pmt(5),
    market: DEFAULT_MARKET,
    provers: [
      {
        name: "fast",
        strategy: "honest",
        provingSeconds: 15,
        slots: 1,
        floor: 0n,
        perProvingSecond: pmt("0.5"),
        stake: pmt(200),
      },
      {
        name: "medium",
        strategy: "honest",
        provingSeconds: 45,
        slots: 2,
        floor: 0n,
        perProvingSecond: pmt("0.2"),
        stake: pmt(200),
      },
      {
        name: "slow",
        strategy: "honest",
        provingSeconds: 90,
        slots: 2,
        floor: pmt(12),
        perProvingSecond: pmt("0.1"),
        stake: pmt(200),
      },
      {
        name: "staller",
        strategy: "staller",
        provingSeconds: 0,
        slots: 2,
        floor: 0n,
        perProvingSecond: 0n,
        stake: pmt(100),
      },
      {
        name: "abandoner",
        strategy: "abandoner",
        provingSeconds: 30,
        slots: 1,
        floor: 0n,
        perProvingSecond: pmt("0.2"),
        stake: pmt(100),
      },
      {
        name: "self-reassigner",
        strategy: "self-reassigner",
        provingSeconds: 30,
        slots: 1,
        floor: 0n,
        perProvingSecond: pmt("0.2"),
        stake: pmt(100),
      },
      {
        name: "sniper",
        strategy: "sniper",
        provingSeconds: 30,
        slots: 2,
        floor: pmt(14),
        perProvingSecond: pmt("0.2"),
        stake: pmt(100),
      },
    ],
    requesters: [
      { name: "thrifty", maxFee: [pmt(15), pmt(25)], rampSeconds: 600, weight: 2 },
      { name: "generous", maxFee: [pmt(30), pmt(50)], rampSeconds: 600, weight: 1 },
      { name: "hasty", maxFee: [pmt(20), pmt(40)], rampSeconds: 120, weight: 1 },
      { name: "griefer", maxFee: [pmt(20), pmt(30)], rampSeconds: 600, weight: 0.5, griefs: "unprovable-inputs" },
      { name: "rug-puller", maxFee: [pmt(30), pmt(50)], rampSeconds: 600, weight: 0.5, griefs: "rug-pull" },
    ],
    keepers: 1,
    gasPrice: 2_000_000_000n,
    tokensPerEth: pmt(3_000),
    checkVerifierBytecode: true,
    inputSets: 6,
    ...overrides,
  };
}
