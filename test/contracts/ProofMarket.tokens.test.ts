import { expect } from "chai";
import { network } from "hardhat";
import { deployMarket, FEE, postJob, registerExample, STAKE } from "./helpers/fixture.ts";

const { ethers, networkHelpers } = await network.create();
const { loadFixture } = networkHelpers;

describe("ProofMarket: hostile tokens", function () {
  it("refuses a fee-on-transfer token on stake and post, so it never books more than it holds", async function () {
    const { market, token, prover, requester } = await deployMarket(ethers, "FeeOnTransferToken");
    const circuitId = await registerExample(ethers, market, "poseidon_preimage", "groth16", false);
    await expect(market.connect(prover).stake(STAKE))
      .to.be.revertedWithCustomError(market, "TokenTransferMismatch")
      .withArgs(STAKE, STAKE - STAKE / 100n);
    await expect(postJob(ethers, market, requester, circuitId, [1n])).to.be.revertedWithCustomError(
      market,
      "TokenTransferMismatch",
    );
    expect(await token.balanceOf(await market.getAddress())).to.equal(0n);
  });

  it("a token whose transfer in leaves the market with less than before is refused with a named error, not a panic", async function () {
    const { market, token, prover, requester } = await deployMarket(ethers, "DrainingToken");
    const circuitId = await registerExample(ethers, market, "poseidon_preimage", "groth16", false);
    await market.connect(prover).stake(STAKE);
    await (token as unknown as { arm(): Promise<unknown> }).arm();
    await expect(postJob(ethers, market, requester, circuitId, [1n]))
      .to.be.revertedWithCustomError(market, "TokenTransferMismatch")
      .withArgs(FEE, 0n);
  });

  it("a recipient the token refuses blocks only its own withdrawal, and keeps its balance", async function () {
    const { market, token, requester, stranger } = await deployMarket(ethers, "BlocklistToken");
    const circuitId = await registerExample(ethers, market, "poseidon_preimage", "groth16", false);
    const a = await postJob(ethers, market, requester, circuitId, [1n]);
    await market.connect(requester).cancel(a.jobId, a.terms);
    const b = await postJob(ethers, market, stranger, circuitId, [2n]);
    await market.connect(stranger).cancel(b.jobId, b.terms);
    await (token as any).setBlocked(requester.address, true);
    await expect(market.connect(requester).withdraw(requester.address)).to.be.revertedWith("blocked recipient");
    expect(await market.withdrawable(requester.address)).to.equal(FEE);
    await market.connect(stranger).withdraw(stranger.address);
    // The blocked account can still have its funds sent elsewhere.
    await market.connect(requester).withdraw(stranger.address);
    expect(await market.withdrawable(requester.address)).to.equal(0n);
  });

  it("a token that calls back into the market during a transfer is stopped by the reentrancy lock", async function () {
    const fixture = async () => {
      const base = await deployMarket(ethers, "ReentrantToken");
      const circuitId = await registerExample(ethers, base.market, "poseidon_preimage", "groth16", false);
      return { ...base, circuitId };
    };
    const { market, token, requester, circuitId } = await loadFixture(fixture);
    const a = await postJob(ethers, market, requester, circuitId, [1n]);
    await market.connect(requester).cancel(a.jobId, a.terms);
    // During withdraw's transfer, the token calls withdraw again on the requester's behalf... via the market.
    await (token as any).arm(await market.getAddress(), market.interface.encodeFunctionData("stake", [1n]));
    await market.connect(requester).withdraw(requester.address);
    const reason = await (token as any).reentryError();
    expect(market.interface.parseError(reason)?.name).to.equal("ReentrancyGuardReentrantCall");
    expect(await token.balanceOf(await market.getAddress())).to.equal(0n);
  });
});
