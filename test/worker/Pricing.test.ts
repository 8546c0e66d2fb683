/**
 * Reservation prices (prover-worker/src/pricing.ts): the larger of the floor and the price derived from proving time
 * and gas, every part rounded up; the gas defaults are `npm run gas`'s measurements; the config's `price` and
 * `pricing` settings, with errors that say what to write, and the deprecated policy.minFee read as every circuit's
 * floor with a warning, and `run`'s warning of a circuit priced at nothing off a devnet. And the crossing's timing
 * (prover-worker/src/pipeline/crossing.ts): the second a claim can first land in (a block later on a chain whose
 * blocks may share a second), what the worker learns of that from the blocks it reads, the chain clock's offset from
 * readings, and when the scheduler wakes for a crossing (never later than a timer allows).
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chainWarnings, ConfigError, loadConfig } from "../../prover-worker/src/config.ts";
import {
  chainTime,
  claimTiming,
  createChainClock,
  createStampWatch,
  CROSSING_POLL_MS,
  MAX_WAKE_MS,
  STRICT_PAIRS_NEEDED,
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

  it("run warns of a circuit priced at nothing (floor and perProvingSecond 0) on any chain but a devnet, naming the keys", function () {
    const { config, circuits } = load({
      pricing: { tokensPerEth: "0" },
      circuits: [
        { circuitId: 1, manifest: "poseidon_preimage", system: "groth16", price: { floor: "5" } },
        { circuitId: 2, manifest: "poseidon_preimage", system: "plonk" },
        { circuitId: 3, manifest: "poseidon_preimage", system: "fflonk", price: { perProvingSecond: "1" } },
      ],
    });
    // Mainnet (1): the second circuit alone, by its id, its name and the keys to set at its index.
    const [warning, ...more] = chainWarnings(config, circuits, 1n);
    expect(more).to.deep.equal([]);
    expect(warning).to.match(
      /^circuit 2 \(poseidon_preimage\) has price\.floor and price\.perProvingSecond both 0 on chain 1: its reservation price is only the gas of a claim and a submission, .*0 included.*; set circuits\.1\.price\.floor .* or circuits\.1\.price\.perProvingSecond /,
    );
    // Without tokensPerEth not even the gas is counted: the message says the reservation is 0.
    const bare = load({});
    expect(chainWarnings(bare.config, bare.circuits, 42161n)[0]).to.match(
      /on chain 42161: its reservation price is 0 \(pricing\.tokensPerEth is not set/,
    );
    // On a devnet (Hardhat's, Anvil's 31337; Ganache's, geth --dev's 1337) working for nothing is expected: quiet.
    expect(chainWarnings(config, circuits, 31337n)).to.deep.equal([]);
    expect(chainWarnings(bare.config, bare.circuits, 1337n)).to.deep.equal([]);
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
  it("a claim's block is at least the latest block's second (+ 1 where seconds strictly increase); on a devnet, at least the pending block's", function () {
    // Blocks may share a second (not known otherwise): a claim sent now may land in a block of the latest's second.
    expect(chainTime(100, false, null)).to.deep.equal({ now: 100, claimAt: 100, reading: 100 });
    // Seen to strictly increase: the next block is a second later at least.
    expect(chainTime(100, true, null)).to.deep.equal({ now: 100, claimAt: 101, reading: 100 });
    // A quiet devnet: its latest block is a minute old, its clock (the pending block) is at 160.
    expect(chainTime(100, false, 160)).to.deep.equal({ now: 100, claimAt: 160, reading: 160 });
    expect(chainTime(100, true, 160)).to.deep.equal({ now: 100, claimAt: 160, reading: 160 });
    expect(chainTime(100, true, 100)).to.deep.equal({ now: 100, claimAt: 101, reading: 100 });
    expect(chainTime(100, false, 100)).to.deep.equal({ now: 100, claimAt: 100, reading: 100 });
  });

  it("counts on a later second only after consecutive blocks were seen to increase, and never after two shared one", function () {
    // An Ethereum-like chain, 12 s blocks: unknown until STRICT_PAIRS_NEEDED consecutive pairs are seen.
    const l1 = createStampWatch();
    expect(l1.order()).to.equal("unknown");
    for (let n = 100; n < 100 + STRICT_PAIRS_NEEDED; n++) {
      l1.observe({ number: n, timestamp: 1_000 + 12 * (n - 100) });
      expect(l1.order(), `after block ${n}`).to.equal("unknown");
    }
    l1.observe({ number: 100 + STRICT_PAIRS_NEEDED, timestamp: 1_000 + 12 * STRICT_PAIRS_NEEDED });
    expect(l1.order()).to.equal("strict");
    expect(l1.knows(100)).to.equal(true);
    // Blocks far apart say nothing of strictness: gaps of 10 blocks in 120 s are not pairs.
    const gaps = createStampWatch();
    for (let i = 0; i < 10; i++) gaps.observe({ number: 10 * i, timestamp: 120 * i });
    expect(gaps.order()).to.equal("unknown");
    // The same block read twice is one block.
    const twice = createStampWatch();
    for (let i = 0; i < 5; i++) twice.observe({ number: 7, timestamp: 70 });
    expect(twice.order()).to.equal("unknown");

    // An Arbitrum-like chain, 4 blocks a second: two consecutive blocks share a second.
    const l2 = createStampWatch();
    l2.observe({ number: 500, timestamp: 2_000 });
    l2.observe({ number: 501, timestamp: 2_000 });
    expect([l2.order(), l2.sharedSeen()]).to.deep.equal(["shared", { from: 500, to: 501 }]);
    // For good: strictly increasing pairs seen afterwards do not lift it.
    for (let n = 502; n < 520; n++) l2.observe({ number: n, timestamp: 2_000 + n - 501 });
    expect(l2.order()).to.equal("shared");
    // Seen without reading a single pair: 8 blocks in 2 s cannot all have seconds of their own.
    const far = createStampWatch();
    far.observe({ number: 1_000, timestamp: 5_000 });
    far.observe({ number: 1_008, timestamp: 5_002 });
    expect([far.order(), far.sharedSeen()]).to.deep.equal(["shared", { from: 1_000, to: 1_008 }]);
    // After being taken as strict too: the first shared second turns it back.
    l1.observe({ number: 110, timestamp: 1_000 + 12 * 10 });
    l1.observe({ number: 111, timestamp: 1_000 + 12 * 10 });
    expect(l1.order()).to.equal("shared");

    // A reorg: block 201 seen again with another timestamp forgets what was kept from it on, so the replaced
    // block is not compared with its old successors (which were a second later than its new stamp).
    const reorg = createStampWatch();
    reorg.observe({ number: 200, timestamp: 100 });
    reorg.observe({ number: 201, timestamp: 112 });
    reorg.observe({ number: 202, timestamp: 124 });
    reorg.observe({ number: 201, timestamp: 124 });
    expect([reorg.knows(202), reorg.order()]).to.deep.equal([false, "unknown"]);
  });

  it("says when a claim goes out relative to the crossing second, for each rule", function () {
    expect(claimTiming("strict", false)).to.match(
      /^once the latest block is stamped T − 1 or later \(.*strictly increase/,
    );
    expect(claimTiming("shared", false)).to.match(/^once the latest block is stamped T or later \(.*same second/);
    expect(claimTiming("unknown", false)).to.match(/^once the latest block is stamped T or later \(until .*strictly/);
    expect(claimTiming("unknown", true)).to.match(
      /, or as soon as this development chain's clock \(its pending block\) reaches T$/,
    );
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

    // Crossing at T = 2,030 seen from latest 2,000 on a chain whose seconds strictly increase, without a trusted
    // pending block: the claim can land at T once a block of T − 1 is out, 29 s on; the scheduler looks a second
    // before that.
    local = 1_000_000;
    const fresh = createChainClock(() => local);
    const time = chainTime(2_000, true, null);
    fresh.observe(time.reading);
    expect(wakeDelayMs(fresh, time, 2_030)).to.equal(28_000);
    // Blocks that may share a second: the claim waits for a block of T itself, 30 s on.
    expect(wakeDelayMs(fresh, chainTime(2_000, false, null), 2_030)).to.equal(29_000);
    // On a devnet whose clock (pending) is at 2_000: at T − 1 the second before.
    const dev = chainTime(1_990, true, 2_000);
    expect(wakeDelayMs(fresh, dev, 2_030)).to.equal(29_000);
    // Due (or overdue): looked at again every CROSSING_POLL_MS until the check lets the claim go.
    expect(wakeDelayMs(fresh, time, 2_001)).to.equal(CROSSING_POLL_MS);
    expect(wakeDelayMs(fresh, time, 1_990)).to.equal(CROSSING_POLL_MS);
  });

  it("never sleeps longer than MAX_WAKE_MS, whose timer Node keeps: a crossing months off is looked at again later", function () {
    const clock = createChainClock(() => 1_000_000);
    const time = chainTime(2_000, true, null);
    clock.observe(time.reading);
    // A job that expires a year after posting can cross 300 days on: 2.6e10 ms, past a timer's 2^31 − 1 ms
    // ceiling, above which Node fires after 1 ms (and every worker would pass again at once, for ever).
    const crossesAt = 2_000 + 300 * 86_400;
    expect((crossesAt - 2_001) * 1000).to.be.above(2 ** 31 - 1);
    expect(wakeDelayMs(clock, time, crossesAt)).to.equal(MAX_WAKE_MS);
    expect(MAX_WAKE_MS).to.be.below(2 ** 31 - 1);
    // A minute and a half off: the minute, then the next pass arms the rest.
    expect(wakeDelayMs(clock, time, 2_091)).to.equal(MAX_WAKE_MS);
    expect(wakeDelayMs(clock, time, 2_031)).to.equal(29_000);
  });
});
