/**
 * The requester's pricing arithmetic (requester/pricing.ts): the default ramp and why it is gentle enough, the
 * checks a ramp passes before it is posted, and the ramp `quote` suggests from locked prices.
 */
import { expect } from "chai";
import { formatEther, parseEther } from "ethers";
import { firstSecondAtPrice, rampStep } from "../../common/market/price.ts";
import {
  checkRamp,
  DEFAULT_RAMP_SECONDS,
  explainSuggestion,
  rampOf,
  roundSignificant,
  shortestGentleRamp,
  steepRise,
  suggestRamp,
} from "../../requester/pricing.ts";

const money = (amount: bigint) => `${formatEther(amount)} PMT`;
const timing = { provingWindow: 300n, expiresIn: 3600n };
const refusal = (f: () => void): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("not refused");
};

describe("requester pricing", function () {
  describe("rampOf: the ramp posted", function () {
    const ramp = (minFee: bigint, maxFee: bigint, rampStart: bigint, rampDuration: bigint) => ({
      minFee,
      maxFee,
      rampStart,
      rampDuration,
    });

    it("a fixed fee is minFee = maxFee, with no ramp", function () {
      expect(rampOf({ fee: parseEther("3") })).to.deep.equal(ramp(parseEther("3"), parseEther("3"), 0n, 0n));
    });

    it("a maximum alone opens at a tenth of it and rises over 600 s from posting", function () {
      expect(rampOf({ maxFee: parseEther("3") })).to.deep.equal(ramp(parseEther("0.3"), parseEther("3"), 0n, 600n));
      const explicit = rampOf({ maxFee: 5n, minFee: 2n, rampDuration: 90n, rampDelay: 30n });
      expect(explicit).to.deep.equal(ramp(2n, 5n, 30n, 90n));
    });

    it("the defaults raise the price by at most 2% of the maximum per 12 s block, whatever the minimum", function () {
      expect(DEFAULT_RAMP_SECONDS).to.equal(600n);
      const max = parseEther("3");
      const byDefault = rampOf({ maxFee: max });
      // (3 − 0.3) × 12 / 600 = 0.054: 1.8% of the maximum.
      expect(rampStep(byDefault, 12n)).to.equal(parseEther("0.054"));
      expect(steepRise(byDefault)).to.equal(null);
      // From 0 it is 2% exactly, still not steep; one second shorter is.
      expect(rampStep(rampOf({ maxFee: max, minFee: 0n }), 12n)).to.equal(parseEther("0.06"));
      expect(steepRise(rampOf({ maxFee: max, minFee: 0n }))).to.equal(null);
      expect(steepRise(rampOf({ maxFee: max, minFee: 0n, rampDuration: 599n }))).to.equal(
        rampStep({ minFee: 0n, maxFee: max, rampStart: 0n, rampDuration: 599n }, 12n),
      );
      // A jump (no ramp) is the whole span at once.
      expect(steepRise(rampOf({ maxFee: max, minFee: 0n, rampDuration: 0n }))).to.equal(max);
    });
  });

  describe("checkRamp: refused before anything is sent", function () {
    it("refuses a maximum of 0", function () {
      expect(refusal(() => checkRamp(rampOf({ fee: 0n }), timing, money))).to.match(
        /^the maximum fee \(--max-fee, or --fee\) must be above 0/,
      );
    });

    it("refuses a minimum above the maximum, naming both and what to do", function () {
      const ramp = rampOf({ maxFee: parseEther("3"), minFee: parseEther("5") });
      expect(refusal(() => checkRamp(ramp, timing, money))).to.equal(
        "the minimum fee 5.0 PMT (--min-fee) is above the maximum 3.0 PMT (--max-fee): the price rises from the " +
          "minimum to the maximum, so lower --min-fee or raise --max-fee (or give --fee alone for a fixed price)",
      );
    });

    it("refuses a ramp that ends after the last claim with a whole proving window, saying what fits", function () {
      // Ends at 3,301 s; a claim gets its whole 300 s only until 3,300 s.
      const late = rampOf({ maxFee: 10n, rampDelay: 101n, rampDuration: 3200n });
      expect(refusal(() => checkRamp(late, timing, money))).to.equal(
        "the price would reach its maximum 3301 s after posting, but a claim gets its whole 300 s proving window " +
          "only until 3300 s after posting (the job expires after 3600 s): the top of the ramp would be offered " +
          "only with a shorter window, or not at all; shorten --ramp to at most 3199 s, or lengthen --expires-in " +
          "to at least 3601 s",
      );
      // A delay past the last full claim leaves no ramp that fits: only a longer life does.
      const delayed = rampOf({ maxFee: 10n, rampDelay: 4000n, rampDuration: 60n });
      expect(refusal(() => checkRamp(delayed, timing, money))).to.match(
        /or not at all; lengthen --expires-in to at least 4360 s$/,
      );
      expect(() =>
        checkRamp(rampOf({ maxFee: 10n, rampDelay: 100n, rampDuration: 3200n }), timing, money),
      ).not.to.throw();
    });

    it("lets a fixed price be posted whatever its timing", function () {
      expect(() =>
        checkRamp(
          rampOf({ maxFee: 7n, minFee: 7n, rampDuration: 9999n }),
          { provingWindow: 60n, expiresIn: 120n },
          money,
        ),
      ).not.to.throw();
      expect(() => checkRamp(rampOf({ fee: 7n }), { provingWindow: 60n, expiresIn: 60n }, money)).not.to.throw();
    });
  });

  describe("suggestRamp: a ramp from locked prices", function () {
    it("none without prices", function () {
      expect(suggestRamp([])).to.equal(null);
    });

    it("opens 10% below the lowest, tops out 25% above the highest, over the shortest gentle minute", function () {
      const s = suggestRamp([parseEther("2"), parseEther("3"), parseEther("1"), parseEther("2.5")])!;
      expect([s.count, s.lowest, s.median, s.highest]).to.deep.equal([
        4,
        parseEther("1"),
        parseEther("2.5"),
        parseEther("3"),
      ]);
      expect([s.minFee, s.maxFee]).to.deep.equal([parseEther("0.9"), parseEther("3.75")]);
      // 600 × (3.75 − 0.9) / 3.75 = 456 s, up to the whole minute: 480 s; a minute less would rise too fast.
      expect(s.rampDuration).to.equal(480n);
      const ramp = { minFee: s.minFee, maxFee: s.maxFee, rampStart: 0n, rampDuration: s.rampDuration };
      expect(steepRise(ramp)).to.equal(null);
      expect(steepRise({ ...ramp, rampDuration: 420n })).to.be.a("bigint");
      // The median of an even count is the upper middle price, as the coordinator takes it.
      expect(s.medianAfter).to.equal(firstSecondAtPrice(ramp, parseEther("2.5")));
      expect(s.medianAfter).to.equal(270n); // ⌈(2.5 − 0.9) × 480 / 2.85⌉
    });

    it("rounds to three significant digits, the minimum down and the maximum up", function () {
      const s = suggestRamp([parseEther("1.234567")])!;
      expect(formatEther(s.minFee)).to.equal("1.11"); // 1.1111103
      expect(formatEther(s.maxFee)).to.equal("1.55"); // 1.54320875
      expect(s.median).to.equal(parseEther("1.234567"));
      expect(s.rampDuration).to.equal(shortestGentleRamp(s.minFee, s.maxFee));
      expect(s.rampDuration).to.equal(180n); // 600 × 0.44 / 1.55 = 170.3 s
    });

    it("never suggests a maximum of 0", function () {
      const s = suggestRamp([0n, 0n])!;
      expect([s.minFee, s.maxFee]).to.deep.equal([0n, 1n]);
      expect(s.rampDuration).to.equal(600n);
    });

    it("says why each value is what it is", function () {
      const why = explainSuggestion(suggestRamp([parseEther("1"), parseEther("3")])!, money);
      expect(why.minFee).to.match(/^10% below the lowest price a claim locked \(1\.0 PMT\)/);
      expect(why.maxFee).to.match(/^25% above the highest \(3\.0 PMT\): .*escrowed/);
      expect(why.ramp).to.match(/at most 2% of the maximum.*reaches the median \(3\.0 PMT\) \d+ s after posting$/);
    });
  });

  it("roundSignificant keeps small amounts and rounds the rest", function () {
    expect(roundSignificant(123n, 3, "up")).to.equal(123n);
    expect(roundSignificant(1234n, 3, "down")).to.equal(1230n);
    expect(roundSignificant(1234n, 3, "up")).to.equal(1240n);
    expect(roundSignificant(1230n, 3, "up")).to.equal(1230n);
    expect(roundSignificant(9999n, 3, "up")).to.equal(10000n);
  });
});
