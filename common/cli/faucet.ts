/**
 * The `faucet` command both CLIs offer: mint the market's test token (common/deploy/faucet.ts refuses any other
 * token) to the key's own address or --to, and print the new balance.
 */
import { type Command, Option } from "commander";
import { formatUnits, getAddress, type Signer } from "ethers";
import { connectMarket, connectToken } from "../contracts/artifacts.ts";
import { mintTestTokens } from "../deploy/faucet.ts";
import { checkAmount, toBaseUnits, UsageError } from "./program.ts";

const DEFAULT_AMOUNT = "100";

export function addFaucetCommand(
  program: Command,
  connect: () => Promise<{ signer: Signer; marketAddress: string }>,
): Command {
  return program
    .command("faucet")
    .description("devnets only: mint the market's test token (to your own address unless --to)")
    .argument("[amount]", "in token units", DEFAULT_AMOUNT)
    .addOption(new Option("--to <address>", "who gets the tokens (default: the key's own address)"))
    .action(async (amountText: string, opts: { to?: string }) => {
      checkAmount("faucet", amountText);
      let to: string | undefined;
      if (opts.to !== undefined) {
        try {
          to = getAddress(opts.to);
        } catch {
          throw new UsageError(`--to: expected a 0x-prefixed 20-byte hex address, got ${opts.to}`);
        }
      }
      const { signer, marketAddress } = await connect();
      const token = connectToken(await connectMarket(marketAddress, signer).token(), signer);
      const amount = toBaseUnits(amountText, Number(await token.decimals()));
      const minted = await mintTestTokens(signer, marketAddress, to ?? (await signer.getAddress()), amount);
      console.log(
        `minted ${formatUnits(minted.amount, minted.decimals)} ${minted.symbol} to ${minted.to}; balance now ${formatUnits(minted.balance, minted.decimals)} ${minted.symbol}`,
      );
    });
}
