/**
 * The revert decoder against a real local chain: a transaction refused at gas estimation, one mined reverted (a
 * gas limit given, so nothing estimates first), the same known only from its receipt (replayed), an access
 * error, a Panic and an Error(string) from real EVM code.
 */
import { expect } from "chai";
import { AbiCoder, Contract, concat, id, parseEther, toBeHex, Wallet, zeroPadValue } from "ethers";
import { type LocalChain, startLocalChain } from "../../dev/localNode.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import { describeRevert, explainRevert, revertName } from "../../common/contracts/revert.ts";
import { deployDevnet, type DevnetDeployment } from "../../dev/devnet.ts";

/** Init code that reverts with the given data (copied from its own tail): a contract creation that always fails. */
function revertingInitCode(data: string): string {
  const length = (data.length - 2) / 2;
  // PUSH2 len, PUSH1 14 (where the data starts), PUSH1 0, CODECOPY, PUSH2 len, PUSH1 0, REVERT: 14 bytes, then the data
  const head = `0x61${toBeHex(length, 2).slice(2)}600e600039` + `61${toBeHex(length, 2).slice(2)}6000fd`;
  return concat([head, data]);
}

describe("revert decoder", function () {
  let chain: LocalChain;
  let deployment: DevnetDeployment;
  let poor: Wallet;

  before(async function () {
    chain = await startLocalChain();
    deployment = await deployDevnet(chain.accounts[0]);
    poor = Wallet.createRandom().connect(chain.provider) as unknown as Wallet;
    await (await chain.accounts[0].sendTransaction({ to: poor.address, value: parseEther("1") })).wait();
    // Approved but holding no tokens: stake() reverts in the token's transferFrom.
    const token = new Contract(deployment.token, ["function approve(address,uint256)"], poor);
    await (await token.approve(deployment.market, parseEther("5"))).wait();
  });

  after(async function () {
    await chain?.stop();
  });

  const insufficient = () => `ERC20InsufficientBalance(${poor.address}, 0, ${parseEther("5")})`;

  it("names an ERC-20 error refused at gas estimation", async function () {
    const error = await connectMarket(deployment.market, poor)
      .stake(parseEther("5"))
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(describeRevert(error)).to.equal(insufficient());
    expect(revertName(error)).to.equal("ERC20InsufficientBalance");
  });

  it("names a mined transaction that reverted, from the node's nested error and from its receipt alone", async function () {
    const error = await connectMarket(deployment.market, poor)
      .stake(parseEther("5"), { gasLimit: 300_000 })
      .then((tx) => tx.wait())
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect((error as { code?: string }).code).to.equal("UNKNOWN_ERROR");
    expect(describeRevert(error)).to.equal(insufficient());

    // What ethers reports on nodes that accept the transaction: a CALL_EXCEPTION with only the receipt.
    const block = await chain.provider.getBlock("latest");
    const receipt = await chain.provider.getTransactionReceipt(block!.transactions[0]);
    expect(receipt!.status).to.equal(0);
    const receiptOnly = { code: "CALL_EXCEPTION", receipt, data: null };
    expect(describeRevert(receiptOnly)).to.equal(null);
    expect(await explainRevert(receiptOnly, chain.provider)).to.equal(insufficient());
  });

  it("names an access error with its argument", async function () {
    const error = await connectMarket(deployment.market, poor)
      .setPaused(true)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(describeRevert(error)).to.equal(`OwnableUnauthorizedAccount(${poor.address})`);
  });

  it("names a Panic with its meaning and an Error(string)", async function () {
    const panic = concat([id("Panic(uint256)").slice(0, 10), zeroPadValue("0x11", 32)]);
    const panicked = await chain.provider.call({ data: revertingInitCode(panic) }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(describeRevert(panicked)).to.equal("Panic(0x11: arithmetic overflow or underflow)");

    const message = concat([id("Error(string)").slice(0, 10), AbiCoder.defaultAbiCoder().encode(["string"], ["no"])]);
    const refused = await chain.provider.call({ data: revertingInitCode(message) }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(describeRevert(refused)).to.equal('Error("no")');
  });
});
