/**
 * The market checks the terms a caller passes by copying their calldata to memory word for word and hashing the words
 * as they lie (JobTermsLibrary.load and hash), without decoding them field by field. That is the terms' hash only for
 * a canonical encoding; terms whose words carry dirty high bits (an address or a uint32 / uint40 / uint96 field with
 * bits set above its width) hash to something else and must be refused as TermsMismatch: never accepted (a decoder
 * elsewhere would read them as the job's terms) and never a panic. Each test sends the calldata of `claim` or
 * `submitProof` that ethers encodes, with one word dirtied, from the job's prover, and then the clean calldata, which
 * succeeds: the dirty bits alone were refused.
 *
 * The circuit id is read before the hash (to find the circuit's verifier): Solidity reads it from memory as a uint32,
 * so a dirty word finds the job's own circuit, and the hash of the dirty words then refuses the terms like any other.
 */
import { expect } from "chai";
import { getBytes, hexlify } from "ethers";
import { network } from "hardhat";
import { JOB_STATUS } from "../../common/market/jobStatus.ts";
import { deployStakedMarket, postProvableJob } from "./helpers/fixture.ts";

const { ethers, networkHelpers } = await network.create();
const { loadFixture } = networkHelpers;

async function fixture() {
  const base = await deployStakedMarket(ethers);
  const job = await postProvableJob(ethers, base.market, base.requester, base.circuitId, 1);
  return { ...base, job };
}
type Fixture = Awaited<ReturnType<typeof fixture>>;

/** Every terms field narrower than its word and the width of its type in bits (`inputsCommitment` is a full word). */
const DIRTIED = [
  { field: "requester", bits: 160 },
  { field: "expiresAt", bits: 40 },
  { field: "provingWindow", bits: 32 },
  { field: "minFee", bits: 96 },
  { field: "maxFee", bits: 96 },
  { field: "rampStart", bits: 40 },
  { field: "rampDuration", bits: 32 },
  { field: "bond", bits: 96 },
  { field: "circuitId", bits: 32 },
] as const;

/**
 * `data` with bit `bit` (0: the lowest) set in the word of terms field `field` of `fn`'s calldata. Both `claim` and
 * `submitProof` take (jobId, terms, ...) and the terms are a static struct, so the field's word is at 4 bytes of
 * selector, one word of job id, then one word per field in the struct's order (read from the ABI, not assumed).
 */
function dirty(market: Fixture["market"], fn: "claim" | "submitProof", data: string, field: string, bit: number) {
  const fields = market.interface.getFunction(fn)!.inputs[1].components!.map((c) => c.name);
  const index = fields.indexOf(field);
  expect(index, `${field} is a terms field`).to.be.greaterThan(-1);
  const bytes = getBytes(data);
  const wordEnd = 4 + 32 * (2 + index); // the byte after the field's word
  bytes[wordEnd - 1 - Math.floor(bit / 8)] |= 1 << (bit % 8);
  const out = hexlify(bytes);
  expect(out).to.not.equal(data);
  return out;
}

/** For each dirtied field, a bit just above the type's width and the word's top bit. */
const bitsToDirty = (bits: number) => [
  { bit: bits, where: "the bit just above its width" },
  { bit: 255, where: "the word's top bit" },
];
const cases = DIRTIED.flatMap(({ field, bits }) => bitsToDirty(bits).map((b) => ({ field, ...b })));

/** `data` (a call of `fn` on `job`) sent by `prover` with each field dirtied in turn: every one refused. */
async function expectEveryDirtyWordRefused(f: Fixture, fn: "claim" | "submitProof", data: string) {
  const { market, prover, job } = f;
  const to = await market.getAddress();
  for (const { field, bit, where } of cases) {
    await expect(prover.sendTransaction({ to, data: dirty(market, fn, data, field, bit) }), `${field}, ${where}`)
      .to.be.revertedWithCustomError(market, "TermsMismatch")
      .withArgs(job.jobId);
  }
}

describe("ProofMarket: terms encoded non-canonically are refused (TermsMismatch)", function () {
  it("claim: dirty high bits in any narrow field's word (the requester, the circuit id, a uint40 time, a uint96 fee or bond) are TermsMismatch; the clean calldata claims", async function () {
    const f = await loadFixture(fixture);
    const { market, prover, job } = f;
    const data = market.interface.encodeFunctionData("claim", [job.jobId, job.terms]);
    await expectEveryDirtyWordRefused(f, "claim", data);
    await expect(prover.sendTransaction({ to: await market.getAddress(), data })).to.emit(market, "JobClaimed");
    expect((await market.jobState(job.jobId)).assignee).to.equal(prover.address);
  });

  it("submitProof: dirty high bits in any narrow field's word are TermsMismatch; the clean calldata proves", async function () {
    const f = await loadFixture(fixture);
    const { market, prover, job } = f;
    await market.connect(prover).claim(job.jobId, job.terms);
    const data = market.interface.encodeFunctionData("submitProof", [
      job.jobId,
      job.terms,
      job.proof.proof,
      job.proof.publicSignals,
    ]);
    await expectEveryDirtyWordRefused(f, "submitProof", data);
    await expect(prover.sendTransaction({ to: await market.getAddress(), data })).to.emit(market, "JobProved");
    expect((await market.jobState(job.jobId)).status).to.equal(JOB_STATUS.Proved);
  });
});
