/**
 * The market checks the terms a caller passes by hashing their calldata as it lies (JobTermsLibrary.hashCalldata),
 * without decoding them field by field. That is the terms' hash only for a canonical encoding; terms whose words
 * carry dirty high bits (an address or a uint32 / uint40 / uint96 field with bits set above its width) hash to
 * something else and must be refused as TermsMismatch: never accepted (a decoder elsewhere would read them as the
 * job's terms) and never a panic. Each test sends the calldata of `claim` or `submitProof` that ethers encodes, with
 * one word dirtied, from the job's prover, and then the clean calldata, which succeeds: the dirty bits alone were
 * refused.
 *
 * One field is refused before the hash: the market reads `terms.circuitId` first (to find the circuit's verifier),
 * and Solidity's calldata accessor checks that a uint32's word is clean, reverting with no data if not. That is
 * still a refusal of the whole call with nothing changed, and the dirty word never selects a circuit (it is not
 * truncated to one), so the test asserts exactly that empty revert for it.
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
] as const;
/** Decoded (and refused) by Solidity before the terms are hashed: see the file's comment. */
const CIRCUIT_ID_BITS = 32;

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
  for (const { bit, where } of bitsToDirty(CIRCUIT_ID_BITS)) {
    await expect(
      prover.sendTransaction({ to, data: dirty(market, fn, data, "circuitId", bit) }),
      `circuitId, ${where}`,
    ).to.be.revertedWithoutReason(ethers);
  }
}

describe("ProofMarket: terms encoded non-canonically are refused (TermsMismatch; a dirty circuit id by Solidity's decoder)", function () {
  it("claim: dirty high bits in any narrow field's word (the requester, a uint40 time, a uint96 fee or bond) are TermsMismatch; the clean calldata claims", async function () {
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
