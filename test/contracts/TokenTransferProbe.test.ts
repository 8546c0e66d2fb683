/**
 * The deployment check's probe (contracts/deploy/TokenTransferProbe.sol) in-process, case by case: what it
 * refuses and with which numbers, and that it leaves nothing behind. test/deploy/TokenCheck.test.ts runs it
 * through the Ignition modules on a real node.
 */
import { expect } from "chai";
import { network } from "hardhat";

const { ethers } = await network.create();
const AMOUNT = 1_000_000n;
const HALF = AMOUNT / 2n;

async function probeAndToken(tokenName: string, minted = AMOUNT) {
  const [deployer] = await ethers.getSigners();
  const probe = await ethers.deployContract("TokenTransferProbe");
  const token = await ethers.deployContract(tokenName, tokenName === "TestToken" ? ["Probe Test Token", "PTT"] : []);
  await (token as any).mint(deployer.address, minted);
  await token.approve(await probe.getAddress(), AMOUNT);
  return { probe, token, deployer };
}

describe("TokenTransferProbe", function () {
  // Tokens the market handles at runtime (a blocklist, reentrancy) move exact amounts: not this check's business.
  for (const name of ["TestToken", "BlocklistToken", "ReentrantToken"]) {
    it(`passes ${name}, and gives the caller back everything it pulled`, async function () {
      const { probe, token, deployer } = await probeAndToken(name);
      await probe.check(await token.getAddress(), AMOUNT);
      expect(await token.balanceOf(deployer.address)).to.equal(AMOUNT);
      expect(await token.balanceOf(await probe.getAddress())).to.equal(0n);
    });
  }

  const refused: [string, string, bigint, bigint, bigint][] = [
    ["FeeOnTransferToken", "in: transferFrom(deployer -> probe)", AMOUNT, AMOUNT, AMOUNT - AMOUNT / 100n],
    ["SenderSurchargeToken", "out: transfer(probe -> deployer)", HALF, HALF + HALF / 100n, HALF],
    ["OverpayingToken", "in: transferFrom(deployer -> probe)", AMOUNT, AMOUNT, AMOUNT + AMOUNT / 100n],
  ];
  for (const [name, direction, asked, debited, credited] of refused) {
    it(`refuses ${name}: ${direction} debits ${debited} and credits ${credited} for ${asked}`, async function () {
      const { probe, token } = await probeAndToken(name);
      await expect(probe.check(await token.getAddress(), AMOUNT))
        .to.be.revertedWithCustomError(probe, "TokenMovesWrongAmount")
        .withArgs(direction, asked, debited, credited);
    });
  }

  it("refuses a caller that holds less than the amount, and an amount too small to split", async function () {
    const { probe, token, deployer } = await probeAndToken("TestToken", AMOUNT - 1n);
    await expect(probe.check(await token.getAddress(), AMOUNT))
      .to.be.revertedWithCustomError(probe, "ProbeAmountNotHeld")
      .withArgs(deployer.address, AMOUNT - 1n, AMOUNT, (remedy: string) => remedy.includes("tokenProbeAmount"));
    await expect(probe.check(await token.getAddress(), 1n))
      .to.be.revertedWithCustomError(probe, "ProbeAmountTooSmall")
      .withArgs(1n, 2n);
  });
});
