/**
 * The few on-chain facts that the ABI does not carry (enum names and orders) and the market's arithmetic that runs
 * off chain too (the price ramp, a claim's deadline, the terms commitment) are written once in common/; these tests
 * fail when the Solidity source and that copy part ways. The arithmetic is checked against the contract's own
 * library (JobTermsLibrary, through contracts/mocks/JobTermsHarness.sol) over seeded random cases and their edges.
 */
import { expect } from "chai";
import { getAddress, id, ZeroAddress, ZeroHash } from "ethers";
import { network } from "hardhat";
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { PROOF_SYSTEM_ID } from "../../common/circuits/manifest.ts";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { deadlineFrom, firstSecondAtPrice, type PriceRamp, priceAt, rampStep } from "../../common/market/price.ts";
import { termsHash } from "./helpers/accounting.ts";

function enumMembers(file: string, name: string): string[] {
  const source = readFileSync(path.join(REPO_ROOT, "contracts", "types", file), "utf8");
  const body = new RegExp(`enum ${name} \\{([^}]*)\\}`).exec(source)?.[1];
  if (body === undefined) throw new Error(`enum ${name} not found in ${file}`);
  return body
    .split("\n")
    .map((l) => l.replace(/\/\/.*$/, "").trim())
    .join("")
    .split(",")
    .filter((m) => m !== "");
}

describe("Mirrors of on-chain enums in common/", function () {
  it("JOB_STATUS matches JobStatus in JobState.sol", function () {
    expect(enumMembers("JobState.sol", "JobStatus")).to.deep.equal(Object.keys(JOB_STATUS));
    expect(Object.values(JOB_STATUS)).to.deep.equal(Object.keys(JOB_STATUS).map((_, i) => BigInt(i)));
  });

  it("PROOF_SYSTEM_ID matches ProofSystem in Circuit.sol", function () {
    const members = enumMembers("Circuit.sol", "ProofSystem").map((m) => m.toLowerCase());
    expect(members).to.deep.equal(Object.keys(PROOF_SYSTEM_ID));
    expect(Object.values(PROOF_SYSTEM_ID)).to.deep.equal(members.map((_, i) => i));
  });
});

/** Deterministic pseudo-random bigints (keccak of a seed and a counter): the same cases every run. */
function seeded(seed: string) {
  let n = 0;
  const next = (): bigint => BigInt(id(`${seed}/${n++}`));
  return {
    /** Uniform in [0, bound). */
    below: (bound: bigint): bigint => (bound === 0n ? 0n : next() % bound),
    pick: <T>(xs: readonly T[]): T => xs[Number(next() % BigInt(xs.length))],
  };
}

const MAX96 = 2n ** 96n - 1n;
const MAX40 = 2n ** 40n - 1n;
const MAX32 = 2n ** 32n - 1n;

/** A random ramp, edges often: fees small, mid-sized or near 2^96, equal ends, no ramp, a ramp of a few seconds. */
function randomRamp(r: ReturnType<typeof seeded>): PriceRamp {
  const scale = r.pick([1_000n, 2n ** 64n, MAX96]);
  const maxFee = scale === MAX96 ? MAX96 - r.below(1_000n) : r.below(scale) + 1n;
  const kind = r.pick(["equal", "zero", "any", "any"] as const);
  const minFee = kind === "equal" ? maxFee : kind === "zero" ? 0n : r.below(maxFee + 1n);
  const rampDuration = r.pick([0n, r.below(10n) + 1n, r.below(100_000n) + 1n, MAX32 - r.below(10n)]);
  const rampStart = r.pick([r.below(2_000_000_000n), MAX40 - r.below(MAX32 + 1n) - 1n]);
  return { minFee, maxFee, rampStart, rampDuration };
}

/** Seconds around a ramp: before it, at its start, one in, inside, one before its end, at its end, long after. */
function secondsAround(r: ReturnType<typeof seeded>, ramp: PriceRamp): bigint[] {
  const { rampStart: s, rampDuration: d } = ramp;
  return [
    s - r.below(s + 1n),
    s,
    s + 1n,
    s + r.below(d + 1n),
    s + (d > 0n ? d - 1n : 0n),
    s + d,
    s + d + 1n,
    s + d + r.below(MAX40),
  ];
}

describe("Mirrors of the market's price ramp in common/market/price.ts (against JobTermsLibrary, through a harness)", function () {
  let harness: any;
  before(async function () {
    const { ethers } = await network.create();
    harness = await ethers.deployContract("JobTermsHarness");
  });

  /** Whole JobTerms around a ramp, for the harness (the other fields do not enter the price). */
  const termsOf = (ramp: PriceRamp, o: Partial<{ provingWindow: bigint; expiresAt: bigint }> = {}) => ({
    requester: ZeroAddress,
    circuitId: 1n,
    expiresAt: o.expiresAt ?? MAX40,
    provingWindow: o.provingWindow ?? 600n,
    bond: 1n,
    inputsCommitment: ZeroHash,
    ...ramp,
  });
  const onChainPrice = (ramp: PriceRamp, t: bigint): Promise<bigint> => harness.priceAt(termsOf(ramp), t);

  it("priceAt: the contract's price at every kind of second of 300 random ramps, edges included", async function () {
    const r = seeded("priceAt");
    const edges: PriceRamp[] = [
      { minFee: 0n, maxFee: MAX96, rampStart: 0n, rampDuration: MAX32 },
      { minFee: MAX96, maxFee: MAX96, rampStart: MAX40, rampDuration: 0n },
      { minFee: 5n, maxFee: 6n, rampStart: 100n, rampDuration: 0n },
      { minFee: 100n, maxFee: 110n, rampStart: 1_000n, rampDuration: 3n },
    ];
    // How many prices were strictly inside their ramp, where the rounding is: most must be, or the cases are too easy.
    let rising = 0;
    for (let i = 0; i < 300; i++) {
      const ramp = i < edges.length ? edges[i] : randomRamp(r);
      for (const t of secondsAround(r, ramp)) {
        const price = await onChainPrice(ramp, t);
        expect(priceAt(ramp, t), `${JSON.stringify(ramp, big)} at ${t}`).to.equal(price);
        if (price > ramp.minFee && price < ramp.maxFee) rising++;
      }
    }
    expect(rising).to.be.greaterThan(300);
  });

  it("firstSecondAtPrice: the first second whose price is at least the one asked (the second before is below it)", async function () {
    const r = seeded("firstSecondAtPrice");
    // Answers checked against the second before them: most of the cases, or they are too easy.
    let onTheRamp = 0;
    for (let i = 0; i < 200; i++) {
      const ramp = randomRamp(r);
      const reached = priceAt(ramp, secondsAround(r, ramp)[3]);
      for (const price of [reached, reached + 1n, ramp.minFee, ramp.minFee + 1n, ramp.maxFee, ramp.maxFee + 1n]) {
        const what = `${JSON.stringify(ramp, big)} asked ${price}`;
        const t = firstSecondAtPrice(ramp, price);
        if (t === null) {
          // Never: the ramp's top is below the price.
          expect(price, what).to.be.greaterThan(await onChainPrice(ramp, ramp.rampStart + ramp.rampDuration + 1n));
          continue;
        }
        expect(await onChainPrice(ramp, t), what).to.be.at.least(price);
        if (price <= ramp.minFee) {
          // Every second up to the ramp's start already asks minFee: the ramp's start is the answer by definition.
          expect(t, what).to.equal(ramp.rampStart);
        } else {
          expect(await onChainPrice(ramp, t - 1n), what).to.be.lessThan(price);
          onTheRamp++;
        }
      }
    }
    expect(onTheRamp).to.be.greaterThan(300);
  });

  it("rampStep: no stretch of that many seconds raises the contract's price by more, and one second's step is met", async function () {
    const r = seeded("rampStep");
    for (let i = 0; i < 150; i++) {
      const ramp = randomRamp(r);
      const seconds = r.pick([1n, 12n, r.below(ramp.rampDuration + 2n) + 1n]);
      const t = ramp.rampStart + r.below(ramp.rampDuration + 1n);
      const rise = (await onChainPrice(ramp, t + seconds)) - (await onChainPrice(ramp, t));
      expect(rise, `${JSON.stringify(ramp, big)} from ${t} for ${seconds} s`).to.be.at.most(rampStep(ramp, seconds));
    }
    // On short ramps every second is tried: the largest one-second rise is the step.
    for (let i = 0; i < 20; i++) {
      const d = r.below(40n);
      const ramp = { minFee: r.below(1_000n), maxFee: 0n, rampStart: 1_000n, rampDuration: d };
      ramp.maxFee = ramp.minFee + r.below(2n ** 80n);
      let largest = 0n;
      for (let e = 0n; e <= d; e++) {
        const rise =
          (await onChainPrice(ramp, ramp.rampStart + e + 1n)) - (await onChainPrice(ramp, ramp.rampStart + e));
        if (rise > largest) largest = rise;
      }
      expect(largest, JSON.stringify(ramp, big)).to.equal(rampStep(ramp, 1n));
    }
  });

  it("deadlineFrom: the proving window from the claim's second, never past expiry", async function () {
    const r = seeded("deadlineFrom");
    for (let i = 0; i < 200; i++) {
      const expiresAt = r.pick([r.below(MAX40) + 1n, MAX40]);
      const provingWindow = r.pick([r.below(MAX32 + 1n), r.below(1_000n), MAX32]);
      // Claims long before expiry, and ones whose window ends a second before expiry, at it or a second after it.
      const near = expiresAt - provingWindow;
      const x = r.pick([r.below(expiresAt), near - 1n, near, near + 1n]);
      const claimedAt = x < 0n ? 0n : x >= expiresAt ? expiresAt - 1n : x;
      const terms = termsOf({ minFee: 1n, maxFee: 1n, rampStart: 0n, rampDuration: 0n }, { provingWindow, expiresAt });
      expect(deadlineFrom(terms, claimedAt), JSON.stringify(terms, big)).to.equal(
        await harness.deadlineFrom(terms, claimedAt),
      );
    }
  });

  it("the terms commitment the tests compute (helpers/accounting.ts) is the market's, from calldata and from memory", async function () {
    const r = seeded("termsHash");
    for (let i = 0; i < 50; i++) {
      const ramp = randomRamp(r);
      const terms = {
        ...termsOf(ramp, { provingWindow: r.below(MAX32 + 1n), expiresAt: r.below(MAX40 + 1n) }),
        requester: getAddress(
          `0x${r
            .below(2n ** 160n)
            .toString(16)
            .padStart(40, "0")}`,
        ),
        circuitId: r.below(MAX32 + 1n),
        bond: r.below(MAX96 + 1n),
        inputsCommitment: id(`inputs ${i}`),
      };
      const codeHash = id(`code ${i}`);
      const expected = termsHash(terms, codeHash);
      expect(await harness.hashLoaded(terms, codeHash)).to.equal(expected);
      expect(await harness.hash(terms, codeHash)).to.equal(expected);
    }
  });
});

/** JSON.stringify's replacer for bigints (in failure messages). */
function big(_key: string, value: unknown) {
  return typeof value === "bigint" ? value.toString() : value;
}
