/**
 * Reservation prices (prover-worker/src/pricing.ts): the larger of the floor and the price derived from proving time
 * and gas, every part rounded up; the gas defaults are `npm run gas`'s measurements; the config's `price` and
 * `pricing` settings, with errors that say what to write, and the deprecated policy.minFee read as every circuit's
 * floor with a warning. And the crossing's timing (prover-worker/src/pipeline/crossing.ts): the second a claim can
 * first land in, the chain clock's offset from readings, and when the scheduler wakes for a crossing.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError, loadConfig } from "../../prover-worker/src/config.ts";
import {
  chainTime,
  createChainClock,
  CROSSING_POLL_MS,
  wakeDelayMs,
} from "../../prover-worker/src/pipeline/crossing.ts";
import {
  earnedPerProvingSecond,
  expectedProvingTime,
  MEASURED_GAS,
  reservationPrice,
} from "../../prover-worker/src/pricing.ts";

const GWEI = 10n ** 9n;
const TOKEN = 10n ** 18n;
const NO_GAS = { claimGas: 70_000n, submitGas: 250_000n };

describe("worker reservation prices", function () {
  it("the floor when it is the larger, else proving seconds × per second + the gas of claim and submit", function () {
    const pricing = { tokensPerEth: 2000n * TOKEN, ...NO_GAS };
    // 320,000 gas at 10 gwei = 0.0032 ETH = 6.4 tokens; 4 s at 0.5 token a second = 2 tokens.
    const proving = { seconds: 4, source: "bench" as const };
    const derived = reservationPrice({ floor: 0n, perProvingSecond: TOKEN / 2n }, pricing, proving, 10n * GWEI);
    expect(derived).to.deep.include({
      price: (84n * TOKEN) / 10n,
      proving: 2n * TOKEN,
      gas: (64n * TOKEN) / 10n,
      gasUnits: 320_000n,
      gasPrice: 10n * GWEI,
      provingSource: "bench",
    });
    // A floor above the derived price is the reservation; below it, the derived price is.
    const floored = reservationPrice(
      { floor: 10n * TOKEN, perProvingSecond: TOKEN / 2n },
      pricing,
      proving,
      10n * GWEI,
    );
    expect([floored.price, floored.floor, floored.proving + floored.gas]).to.deep.equal([
      10n * TOKEN,
      10n * TOKEN,
      (84n * TOKEN) / 10n,
    ]);
    const low = reservationPrice({ floor: 8n * TOKEN, perProvingSecond: TOKEN / 2n }, pricing, proving, 10n * GWEI);
    expect(low.price).to.equal((84n * TOKEN) / 10n);
  });

  it("converts gas at a fixed gas price and rate, rounding up; without a rate it counts no gas", function () {
    // 1 gas at 1 wei, 1 token base unit per ETH: 1e-18 of a unit, rounded up to 1.
    const tiny = reservationPrice(
      { floor: 0n, perProvingSecond: 0n },
      { tokensPerEth: 1n, claimGas: 1n, submitGas: 0n },
      { seconds: 0, source: "estimate" },
      1n,
    );
    expect(tiny.gas).to.equal(1n);
    // The measured gas at 1.5 gwei, 3000 tokens per ETH.
    const measured = { tokensPerEth: 3000n * TOKEN, claimGas: MEASURED_GAS.claim, submitGas: MEASURED_GAS.submit };
    const r = reservationPrice(
      { floor: 0n, perProvingSecond: 0n },
      measured,
      { seconds: 1, source: "measured" },
      1_500_000_000n,
    );
    const exact = (MEASURED_GAS.claim + MEASURED_GAS.submit) * 1_500_000_000n * 3000n * TOKEN;
    expect(r.gas).to.equal((exact + TOKEN - 1n) / TOKEN);
    expect(r.price).to.equal(r.gas);
    const unset = reservationPrice(
      { floor: 5n, perProvingSecond: 0n },
      NO_GAS,
      { seconds: 1, source: "measured" },
      10n * GWEI,
    );
    expect([unset.gas, unset.price, unset.tokensPerEth]).to.deep.equal([0n, 5n, null]);
  });

  it("prices fractional proving seconds by the millisecond, rounded up", function () {
    const provingCost = (perProvingSecond: bigint, seconds: number) =>
      reservationPrice({ floor: 0n, perProvingSecond }, NO_GAS, { seconds, source: "measured" }, 0n).proving;
    expect(provingCost(1000n, 1.2345)).to.equal(1235n);
    expect(provingCost(1n, 0.0001)).to.equal(1n);
    expect(provingCost(3n, 2)).to.equal(6n);
  });

  it("the gas defaults are what `npm run gas` measured (bench/gas-snapshot.json)", function () {
    const snapshot = JSON.parse(readFileSync(path.join(import.meta.dirname, "../../bench/gas-snapshot.json"), "utf8"));
    expect(MEASURED_GAS).to.deep.equal({ claim: BigInt(snapshot.claim), submit: BigInt(snapshot.submit) });
  });

  it("expects proving time from this process's measurement, else bench's, else the configured estimate", function () {
    expect(expectedProvingTime(2.5, 4, 15)).to.deep.equal({ seconds: 2.5, source: "measured" });
    expect(expectedProvingTime(undefined, 4, 15)).to.deep.equal({ seconds: 4, source: "bench" });
    expect(expectedProvingTime(undefined, null, 15)).to.deep.equal({ seconds: 15, source: "estimate" });
  });

  it("earnings per proving second: earned over seconds, none before a proof", function () {
    expect(earnedPerProvingSecond(10n * TOKEN, 4)).to.equal((25n * TOKEN) / 10n);
    expect(earnedPerProvingSecond(7n, 0)).to.equal(null);
  });
});

describe("worker config: prices", function () {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pm-pricing-config-"));
  let n = 0;
  const load = (extra: Record<string, unknown>, circuit: Record<string, unknown> = {}) => {
    const file = path.join(dir, `worker-${n++}.json`);
    const config = {
      rpcUrl: "http://127.0.0.1:8545",
      marketAddress: "0x" + "11".repeat(20),
      circuits: [{ circuitId: 1, manifest: "poseidon_preimage", system: "groth16", ...circuit }],
      ...extra,
    };
    writeFileSync(file, JSON.stringify(config));
    return loadConfig(file, {}, {});
  };
  const error = (extra: Record<string, unknown>, circuit: Record<string, unknown> = {}) => {
    try {
      load(extra, circuit);
    } catch (e) {
      expect(e).to.be.instanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error("the config loaded");
  };

  it("reads each circuit's price and the pricing settings, with the measured gas as defaults", function () {
    const { circuits, config, warnings } = load(
      { pricing: { tokensPerEth: "3000000000000000000000", claimGas: 80000 } },
      { price: { floor: "1500000000000000000", perProvingSecond: "20000000000000000" } },
    );
    expect(circuits[0].price).to.deep.equal({ floor: (15n * TOKEN) / 10n, perProvingSecond: (2n * TOKEN) / 100n });
    expect(config.pricing).to.deep.equal({
      tokensPerEth: 3000n * TOKEN,
      claimGas: 80_000n,
      submitGas: MEASURED_GAS.submit,
    });
    expect(warnings).to.deep.equal([]);
    // Nothing said: a floor of 0, nothing per second, the gas not counted (with a warning saying what to set).
    const bare = load({});
    expect(bare.circuits[0].price).to.deep.equal({ floor: 0n, perProvingSecond: 0n });
    expect(bare.config.pricing).to.deep.equal({ claimGas: MEASURED_GAS.claim, submitGas: MEASURED_GAS.submit });
    expect(bare.warnings).to.have.length(1);
    expect(bare.warnings[0]).to.match(
      /pricing\.tokensPerEth is not set: .* set it to the token base units that 1 ETH is worth/,
    );
  });

  it("reads the deprecated policy.minFee as the floor of every circuit without one, with a warning naming the new key", function () {
    const { circuits, warnings } = load({
      policy: { minFee: "7" },
      pricing: { tokensPerEth: "0" },
      circuits: [
        { circuitId: 1, manifest: "poseidon_preimage", system: "groth16" },
        { circuitId: 2, manifest: "poseidon_preimage", system: "plonk", price: { floor: "9" } },
      ],
    });
    expect(circuits.map((c) => c.price.floor)).to.deep.equal([7n, 9n]);
    expect(warnings).to.deep.equal([
      "policy.minFee is deprecated (jobs are sold by reverse Dutch auction now): it is read as the floor of every " +
        'circuit without one; write it as "price": { "floor": "7" } on each circuit instead',
    ]);
  });

  it("refuses a wrong price or pricing setting, naming the field and what it takes", function () {
    expect(error({}, { price: { floor: "1.5" } })).to.match(
      /circuits\.0\.price\.floor: expected an integer amount in token base units \(a circuit's "price" is \{ "floor"/,
    );
    // A misspelt key is not silently ignored (the worker would claim at any price).
    expect(error({}, { price: { flor: "5" } })).to.match(
      /circuits\.0\.price: Unrecognized key\(s\) in object: 'flor' \(a circuit's "price" is/,
    );
    expect(error({ pricing: { tokensPerETH: "5" } })).to.match(
      /pricing: Unrecognized key\(s\) in object: 'tokensPerETH' \("pricing" is \{ "tokensPerEth"/,
    );
    expect(error({ pricing: { tokensPerEth: -1 } })).to.match(/pricing\.tokensPerEth: /);
    expect(error({ pricing: { submitGas: 0 } })).to.match(/pricing\.submitGas: .*\("pricing" is/);
  });
});

describe("worker crossing: when a claim lands at the right second", function () {
  it("a claim's block is at least the latest block's second + 1; on a devnet, at least the pending block's", function () {
    expect(chainTime(100, null)).to.deep.equal({ now: 100, claimAt: 101, reading: 100 });
    // A quiet devnet: its latest block is a minute old, its clock (the pending block) is at 160.
    expect(chainTime(100, 160)).to.deep.equal({ now: 100, claimAt: 160, reading: 160 });
    expect(chainTime(100, 100)).to.deep.equal({ now: 100, claimAt: 101, reading: 100 });
  });

  it("estimates the chain's clock from its readings (the largest offset of the last minute) and wakes a second short of the crossing", function () {
    let local = 1_000_000;
    const clock = createChainClock(() => local);
    expect(clock.msUntil(5)).to.equal(null);
    // The chain is at second 2,000 (at least) while the local clock is at 1,000 s.
    clock.observe(2_000);
    local += 500;
    clock.observe(1_999); // a reading of an older block: a smaller offset, not taken
    expect(clock.offsetMs()).to.equal(1_000_000);
    expect(clock.msUntil(2_010)).to.equal(9_500);
    // Forgotten after a minute (a chain clock set back is followed).
    local += 60_000;
    clock.observe(1_000);
    expect(clock.offsetMs()).to.equal(1_000_000 - local);

    // Crossing at T = 2,030 seen from latest 2,000 on a chain without a trusted pending block: the claim can land
    // at T once a block of T − 1 is out, 29 s on; the scheduler looks a second before that.
    local = 1_000_000;
    const fresh = createChainClock(() => local);
    const time = chainTime(2_000, null);
    fresh.observe(time.reading);
    expect(wakeDelayMs(fresh, time, 2_030)).to.equal(28_000);
    // On a devnet whose clock (pending) is at 2_000: at T − 1 the second before.
    const dev = chainTime(1_990, 2_000);
    expect(wakeDelayMs(fresh, dev, 2_030)).to.equal(29_000);
    // Due (or overdue): looked at again every CROSSING_POLL_MS until the check lets the claim go.
    expect(wakeDelayMs(fresh, time, 2_001)).to.equal(CROSSING_POLL_MS);
    expect(wakeDelayMs(fresh, time, 1_990)).to.equal(CROSSING_POLL_MS);
  });
});
