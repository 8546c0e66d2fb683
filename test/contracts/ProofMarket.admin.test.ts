import { expect } from "chai";
import { network } from "hardhat";
import { deployMarket, FEE, PARAMS, postJob, registerExample, STAKE } from "./helpers/fixture.ts";

const { ethers, networkHelpers } = await network.create();
const { time, loadFixture } = networkHelpers;

async function fixture() {
  const base = await deployMarket(ethers);
  const circuitId = await registerExample(ethers, base.market, "poseidon_preimage", "groth16");
  await base.market.connect(base.prover).stake(STAKE);
  return { ...base, circuitId };
}

describe("ProofMarket: owner powers are bounded", function () {
  it("parameters above their hard caps are refused", async function () {
    const { market } = await loadFixture(fixture);
    await expect(market.setParams({ ...PARAMS, keeperShareBps: 2_001n }))
      .to.be.revertedWithCustomError(market, "ParamAboveCap")
      .withArgs("keeperShareBps", 2_001n, 2_000n);
    await expect(market.setParams({ ...PARAMS, treasuryShareBps: 2_001n })).to.be.revertedWithCustomError(
      market,
      "ParamAboveCap",
    );
    await expect(market.setParams({ ...PARAMS, rewardShareBps: 9_000n })).to.be.revertedWithCustomError(
      market,
      "ParamAboveCap",
    );
    // Keeper and reward shares together: what a self-reassigner wins back. At most 90%, so a stall always costs.
    await expect(market.setParams({ ...PARAMS, keeperShareBps: 1_000n, rewardShareBps: 8_001n, treasuryShareBps: 0n }))
      .to.be.revertedWithCustomError(market, "ParamAboveCap")
      .withArgs("keeper + reward shares", 9_001n, 9_000n);
    await expect(
      market.setParams({ ...PARAMS, keeperShareBps: 1_000n, rewardShareBps: 8_000n, treasuryShareBps: 1_000n }),
    ).to.emit(market, "ParamsUpdated");
    await expect(market.setParams({ ...PARAMS, abandonSlashBps: 5_001n })).to.be.revertedWithCustomError(
      market,
      "ParamAboveCap",
    );
    await expect(market.setParams({ ...PARAMS, minProvingWindow: 10n })).to.be.revertedWithCustomError(
      market,
      "InvalidProvingWindowBounds",
    );
    await expect(market.setParams({ ...PARAMS, keeperShareBps: 500n })).to.emit(market, "ParamsUpdated");
  });

  it("only the owner sets parameters, the treasury and the pause", async function () {
    const { market, stranger } = await loadFixture(fixture);
    await expect(market.connect(stranger).setParams(PARAMS)).to.be.revertedWithCustomError(
      market,
      "OwnableUnauthorizedAccount",
    );
    await expect(market.connect(stranger).setTreasury(stranger.address)).to.be.revertedWithCustomError(
      market,
      "OwnableUnauthorizedAccount",
    );
    await expect(market.connect(stranger).setPaused(true)).to.be.revertedWithCustomError(
      market,
      "OwnableUnauthorizedAccount",
    );
    await expect(market.setTreasury(ethers.ZeroAddress)).to.be.revertedWithCustomError(market, "ZeroAddress");
  });

  it("pause stops new posts and claims, never refunds, submissions, unstaking or withdrawals", async function () {
    const { market, requester, prover, circuitId } = await loadFixture(fixture);
    const job = await postJob(ethers, market, requester, circuitId, [1n]);
    await market.setPaused(true);
    await expect(postJob(ethers, market, requester, circuitId, [2n])).to.be.revertedWithCustomError(
      market,
      "MarketPaused",
    );
    await expect(market.connect(prover).claim(job.jobId, job.terms)).to.be.revertedWithCustomError(
      market,
      "MarketPaused",
    );
    await market.connect(requester).cancel(job.jobId, job.terms);
    await market.connect(requester).withdraw(requester.address);
    await market.connect(prover).requestUnstake(STAKE);
    await time.increase(8 * 24 * 3600);
    await market.connect(prover).completeUnstake();
    expect(await market.withdrawable(requester.address)).to.equal(0n);
    await market.setPaused(false);
    await postJob(ethers, market, requester, circuitId, [2n]);
  });

  it("no function lets the owner move escrowed fees or stake: the owner's balance is unchanged by every admin call", async function () {
    const { market, token, owner, requester, circuitId } = await loadFixture(fixture);
    await postJob(ethers, market, requester, circuitId, [1n]);
    const held = await token.balanceOf(await market.getAddress());
    expect(held).to.equal(FEE + STAKE);
    const ownerBefore = await token.balanceOf(owner.address);
    await market.setParams({ ...PARAMS, treasuryShareBps: 2_000n });
    await market.setTreasury(owner.address);
    await market.setPaused(true);
    await expect(market.connect(owner).withdraw(owner.address)).to.be.revertedWithCustomError(
      market,
      "NothingToWithdraw",
    );
    expect(await token.balanceOf(await market.getAddress())).to.equal(held);
    expect(await token.balanceOf(owner.address)).to.equal(ownerBefore);
    // The ABI's state-changing functions: none takes an amount or recipient on the owner's behalf.
    const ownerOnly = [
      "setParams",
      "setTreasury",
      "setPaused",
      "transferOwnership",
      "acceptOwnership",
      "renounceOwnership",
    ];
    const mutating = market.interface.fragments
      .filter((f): f is import("ethers").FunctionFragment => f.type === "function")
      .filter((f) => f.stateMutability !== "view" && f.stateMutability !== "pure")
      .map((f) => f.name);
    expect(mutating.filter((n) => ownerOnly.includes(n)).sort()).to.deep.equal([...ownerOnly].sort());
  });
});

describe("ProofMarket: circuit registry", function () {
  it("registers permissionlessly, and refuses verifiers without code, bad signal counts and a mismatched batch verifier", async function () {
    const { market, stranger } = await loadFixture(fixture);
    const verifier = await ethers.deployContract("PoseidonPreimageGroth16Verifier");
    const batch = await ethers.deployContract("MerkleMembershipGroth16BatchVerifier");
    const reg = {
      name: "x",
      verifier: await verifier.getAddress(),
      system: 0,
      nPublicOutputs: 0,
      nPublicInputs: 2,
      batchVerifier: ethers.ZeroAddress,
      manifestHash: ethers.ZeroHash,
      artifactsURI: "ipfs://x",
    };
    await expect(market.connect(stranger).registerCircuit(reg)).to.emit(market, "CircuitRegistered");
    await expect(market.registerCircuit({ ...reg, verifier: stranger.address }))
      .to.be.revertedWithCustomError(market, "VerifierHasNoCode")
      .withArgs(stranger.address);
    await expect(market.registerCircuit({ ...reg, nPublicInputs: 0 })).to.be.revertedWithCustomError(
      market,
      "InvalidSignalCounts",
    );
    await expect(market.registerCircuit({ ...reg, nPublicInputs: 65 })).to.be.revertedWithCustomError(
      market,
      "InvalidSignalCounts",
    );
    await expect(market.registerCircuit({ ...reg, batchVerifier: await batch.getAddress() }))
      .to.be.revertedWithCustomError(market, "BatchVerifierSignalCount")
      .withArgs(3n, 2n);
    await expect(
      market.registerCircuit({ ...reg, system: 1, batchVerifier: await batch.getAddress() }),
    ).to.be.revertedWithCustomError(market, "BatchVerifierNotGroth16");
  });
});
