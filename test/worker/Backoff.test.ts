/**
 * The worker's per-job retry backoff (a preflight that could not run), on a fake clock.
 */
import { expect } from "chai";
import { createBackoff } from "../../prover-worker/src/pipeline/backoff.ts";

describe("worker retry backoff", function () {
  it("doubles the delay from 1 s to a 60 s cap and holds the job until its next-attempt time", function () {
    let t = 0;
    const b = createBackoff<bigint>({ now: () => t, random: () => 0.5 });
    expect(b.ready(1n)).to.equal(true);
    const delays = [];
    for (let i = 0; i < 9; i++) {
      const d = b.failed(1n);
      delays.push(d);
      expect(b.ready(1n)).to.equal(false);
      t += d - 1;
      expect(b.ready(1n)).to.equal(false);
      t += 1;
      expect(b.ready(1n)).to.equal(true);
    }
    expect(delays).to.deep.equal([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(b.ready(2n)).to.equal(true);
  });

  it("jitters each delay by at most ±20%", function () {
    const low = createBackoff<bigint>({ now: () => 0, random: () => 0 });
    const high = createBackoff<bigint>({ now: () => 0, random: () => 0.999999 });
    expect(low.failed(1n)).to.equal(800);
    expect(high.failed(1n)).to.equal(1_200);
    for (let i = 0; i < 10; i++) low.failed(1n);
    expect(low.failed(1n)).to.equal(48_000);
  });

  it("forgets a job on success or when it leaves Open, starting again from 1 s", function () {
    const t = 0;
    const b = createBackoff<bigint>({ now: () => t, random: () => 0.5 });
    b.failed(1n);
    b.failed(1n);
    b.failed(2n);
    b.clear(1n);
    expect(b.ready(1n)).to.equal(true);
    expect(b.failed(1n)).to.equal(1_000);
    b.prune((id) => id !== 2n);
    expect(b.ready(2n)).to.equal(true);
    expect(b.size).to.equal(1);
  });
});
