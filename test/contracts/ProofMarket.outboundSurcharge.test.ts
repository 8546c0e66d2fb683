/**
 * Why the deployment checks the token's outbound transfers (contracts/deploy/TokenTransferProbe.sol): the market
 * checks what it pulls in, but pays out with a plain transfer, so a token that charges the sender extra on the way
 * out (SenderSurchargeToken) pays each payout's surcharge out of other users' deposits. A market deployed on it
 * directly, without the Ignition modules' check, owes more than it holds after one withdrawal.
 */
import { expect } from "chai";
import { network } from "hardhat";
import { deployMarket, STAKE, UNBONDING_DELAY } from "./helpers/fixture.ts";

const { ethers, networkHelpers } = await network.create();

describe("ProofMarket on a token that charges the sender extra on the way out", function () {
  it("passes the inbound check, and is insolvent after one payout: the last prover out cannot be paid", async function () {
    const { market, token, prover, prover2 } = await deployMarket(ethers, "SenderSurchargeToken");
    const marketAddress = await market.getAddress();
    // transferFrom is exact, so the market's runtime check on stake accepts both deposits.
    await market.connect(prover).stake(STAKE);
    await market.connect(prover2).stake(STAKE);
    expect(await token.balanceOf(marketAddress)).to.equal(2n * STAKE);

    await market.connect(prover).requestUnstake(STAKE);
    await networkHelpers.time.increase(UNBONDING_DELAY);
    await market.connect(prover).completeUnstake();

    // The market paid STAKE and was charged 1% more: it now holds less than prover2's stake, all it still owes.
    const owed = (await market.account(prover2.address)).staked;
    const held = await token.balanceOf(marketAddress);
    expect(owed).to.equal(STAKE);
    expect(held).to.equal(STAKE - STAKE / 100n);
    expect(held < owed).to.equal(true);

    await market.connect(prover2).requestUnstake(STAKE);
    await networkHelpers.time.increase(UNBONDING_DELAY);
    await expect(market.connect(prover2).completeUnstake())
      .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
      .withArgs(marketAddress, held, STAKE);
  });
});
