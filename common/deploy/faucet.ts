/**
 * The devnet faucet: mints the market's token to an address, only where that token is this project's test token
 * (contracts/mocks/TestToken.sol, which anyone may mint). The token is recognised by its runtime code, equal to
 * TestToken's deployed bytecode in the build artifacts, so it works on a local devnet and on the Devnet Ignition
 * module deployed to a testnet alike, and can never be pointed at a real token.
 */
import { Contract, type Provider, type Signer } from "ethers";
import { type ContractArtifact, connectMarket, connectToken, contractArtifact } from "../contracts/artifacts.ts";

/** The faucet does not exist on this market: the message says why. */
export class FaucetRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FaucetRefused";
  }
}

export async function isTestToken(provider: Provider, token: string): Promise<boolean> {
  const code = await provider.getCode(token);
  return (
    code.toLowerCase() ===
    (contractArtifact("TestToken") as ContractArtifact & { deployedBytecode: string }).deployedBytecode.toLowerCase()
  );
}

export interface Minted {
  token: string;
  to: string;
  amount: bigint;
  balance: bigint;
  decimals: number;
  symbol: string;
}

/**
 * @param amount in base units; the caller converts from token units with `tokenOf(...).decimals`
 */
export async function mintTestTokens(
  signer: Signer,
  marketAddress: string,
  to: string,
  amount: bigint,
): Promise<Minted> {
  const provider = signer.provider!;
  const token = await connectMarket(marketAddress, provider).token();
  if (!(await isTestToken(provider, token))) {
    throw new FaucetRefused(
      `the market's token ${token} is not the project's test token: the faucet only exists on devnets and Devnet deployments`,
    );
  }
  const mintable = new Contract(token, contractArtifact("TestToken").abi, signer);
  await (await mintable.mint(to, amount)).wait();
  const erc20 = connectToken(token, provider);
  return {
    token,
    to,
    amount,
    balance: await erc20.balanceOf(to),
    decimals: Number(await erc20.decimals()),
    symbol: await erc20.symbol(),
  };
}
