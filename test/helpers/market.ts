/**
 * A devnet on a real local chain for integration tests, and the requester's side of it: fund accounts, post jobs
 * with inputs documents (inline data: URIs), wait for statuses.
 */
import { Contract, parseEther, type Wallet } from "ethers";
import { loadManifest } from "../../common/circuits/catalog.ts";
import type { ProofSystem } from "../../common/circuits/manifest.ts";
import { connectMarket, connectToken } from "../../common/contracts/artifacts.ts";
import { deployDevnet, type DevnetDeployment } from "../../common/deploy/devnet.ts";
import { inputsDataURI, parseInputsDocument, sha256Hex } from "../../common/inputs/document.ts";
import { type LocalChain, startLocalChain } from "../../common/chain/localNode.ts";

export interface Devnet {
  chain: LocalChain;
  deployment: DevnetDeployment;
  circuitId(name: string, system: ProofSystem): bigint;
}

export async function startDevnet(): Promise<Devnet> {
  const chain = await startLocalChain();
  const deployment = await deployDevnet(chain.accounts[0]);
  const mintable = new Contract(deployment.token, ["function mint(address,uint256)"], chain.accounts[0]);
  for (const who of chain.accounts.slice(1)) await (await mintable.mint(who.address, parseEther("1000"))).wait();
  return {
    chain,
    deployment,
    circuitId(name, system) {
      const c = deployment.circuits.find((x) => x.name === name && x.system === system);
      if (!c) throw new Error(`no ${name}/${system} in the devnet`);
      return c.circuitId;
    },
  };
}

export interface PostOptions {
  fee?: bigint;
  bond?: bigint;
  provingWindow?: bigint;
  expiresIn?: number;
  /** Put a different hash on chain than the document's. */
  wrongHash?: boolean;
}

export async function postJob(
  devnet: Devnet,
  requester: Wallet,
  circuitId: bigint,
  document: Record<string, unknown>,
  o: PostOptions = {},
): Promise<bigint> {
  const market = connectMarket(devnet.deployment.market, requester);
  const token = connectToken(devnet.deployment.token, requester);
  const fee = o.fee ?? parseEther("3");
  if ((await token.allowance(requester.address, devnet.deployment.market)) < fee) {
    await (await token.approve(devnet.deployment.market, parseEther("1000000"))).wait();
  }
  const circuit = devnet.deployment.circuits.find((c) => c.circuitId === circuitId)!;
  const { uri, bytes } = inputsDataURI(document);
  const { inputsCommitment } = parseInputsDocument(loadManifest(circuit.name), document);
  const now = (await devnet.chain.provider.getBlock("latest"))!.timestamp;
  const receipt = (await (
    await market.postJob({
      circuitId,
      fee,
      bond: o.bond ?? parseEther("2"),
      provingWindow: o.provingWindow ?? 300n,
      expiresAt: BigInt(now + (o.expiresIn ?? 3600)),
      inputsCommitment,
      inputsHash: o.wrongHash ? sha256Hex("something else") : sha256Hex(bytes),
      inputsURI: uri,
    })
  ).wait())!;
  const posted = receipt.logs.map((l) => market.interface.parseLog(l)).find((l) => l?.name === "JobPosted");
  return posted!.args.jobId as bigint;
}

export async function waitForStatus(devnet: Devnet, jobId: bigint, status: bigint, timeoutMs = 90_000): Promise<void> {
  const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
  const started = Date.now();
  let last: bigint | undefined;
  while (Date.now() - started < timeoutMs) {
    last = (await market.jobState(jobId)).status;
    if (last === status) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`job ${jobId} did not reach status ${status} within ${timeoutMs} ms (last: ${last})`);
}

/** Moves the chain's clock forward (and mines a block), e.g. past a claim's deadline. */
export async function advanceTime(devnet: Devnet, seconds: number): Promise<void> {
  await devnet.chain.provider.send("evm_increaseTime", [seconds]);
  await devnet.chain.provider.send("evm_mine", []);
}

/** A config for a worker serving the given circuits on this devnet. */
export function workerConfigFor(
  devnet: Devnet,
  circuits: {
    circuitId: bigint;
    manifest: string;
    system: ProofSystem;
    backend?: "snarkjs" | "rapidsnark" | "command";
  }[],
  extra: Record<string, unknown> = {},
) {
  return {
    rpcUrl: devnet.chain.url,
    marketAddress: devnet.deployment.market,
    circuits: circuits.map((c) => ({ ...c, circuitId: Number(c.circuitId) })),
    slots: 2,
    pollIntervalMs: 250,
    metrics: { port: 0 },
    policy: { provingSecondsEstimate: 5 },
    ...extra,
  };
}
