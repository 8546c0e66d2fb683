/**
 * A failed `hardhat ignition deploy` as deployWithIgnition reports it (common/deploy/ignitionFailure.ts): the
 * failed futures first, each once, and a revert Ignition could not name (raised inside a nested call) named.
 */
import { expect } from "chai";
import { id } from "ethers";
import { describeIgnitionFailure, failedFutures } from "../../common/deploy/ignitionFailure.ts";

const INSUFFICIENT_BALANCE = id("ERC20InsufficientBalance(address,uint256,uint256)").slice(0, 10);
const failedLine = (why: string) =>
  ` - ProofMarket#TokenTransferProbe_check: Simulating the transaction failed with error: ${why}`;

describe("a failed Ignition deployment's message", function () {
  it("leads with the failed futures, once each, and names a nested revert by its selector", function () {
    const unknown = `Reverted with unknown custom error (signature ${INSUFFICIENT_BALANCE})`;
    const output = [
      "Batch #1\n  Executed ProofMarket#TokenTransferProbe\n".repeat(50),
      "Futures failed during execution:",
      failedLine(unknown),
      failedLine(unknown),
      "",
      "To learn how to handle these errors: https://hardhat.org/ignition-errors",
    ].join("\n");
    const named = `${unknown}: ERC20InsufficientBalance(address,uint256,uint256)`;
    expect(failedFutures(output)).to.equal(failedLine(named));
    const message = describeIgnitionFailure("ProofMarket", 1, output);
    expect(message.split("\n").slice(0, 2)).to.deep.equal([
      "ignition deploy of ProofMarket failed (exit 1):",
      failedLine(named),
    ]);
  });

  it("leaves a selector no ABI knows, and output without failed futures, as they are", function () {
    const output = "Reverted with unknown custom error (signature 0x12345678)\nsomething else went wrong";
    expect(failedFutures(output)).to.equal("");
    expect(describeIgnitionFailure("Devnet", 2, output)).to.equal(
      `ignition deploy of Devnet failed (exit 2):\n${output}`,
    );
  });
});
