/**
 * The Ignition modules check the staking token before deploying a market (ignition/modules/tokenCheckFutures.ts):
 * on a real local node, through `hardhat ignition deploy` as a public deployment runs it, a token that moves a
 * different amount than asked in either direction stops the deployment with the probe's named error, and no market
 * exists; a well-behaved token passes and the deployer keeps its tokens; a deployer without the probe amount is
 * told so and what to do.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Contract, ContractFactory } from "ethers";
import { type LocalChain, startLocalChain } from "../../dev/localNode.ts";
import { connectMarket, contractArtifact } from "../../common/contracts/artifacts.ts";
import { deployWithIgnition, ignitionDeploymentDir } from "../../common/deploy/ignitionDeploy.ts";
import type { IgnitionDeployment } from "../../common/deploy/ignitionDeployment.ts";
import { DEFAULT_TOKEN_PROBE_AMOUNT } from "../../ignition/modules/tokenCheckFutures.ts";

const AMOUNT = DEFAULT_TOKEN_PROBE_AMOUNT;
const HALF = AMOUNT / 2n;

describe("Ignition's check of the staking token", function () {
  let chain: LocalChain;
  let scratch: string;
  const ids: string[] = [];

  before(async function () {
    chain = await startLocalChain();
    scratch = mkdtempSync(path.join(os.tmpdir(), "pm-token-check-"));
  });

  after(async function () {
    for (const id of ids) rmSync(ignitionDeploymentDir(id), { recursive: true, force: true });
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    await chain?.stop();
  });

  const deployer = () => chain.accounts[0];

  /** A token from contracts/mocks (every one has an open mint), with `minted` given to the deployer. */
  async function deployToken(name: string, minted: bigint): Promise<Contract> {
    const artifact = contractArtifact(name);
    const args = name === "TestToken" ? ["Probe Test Token", "PTT"] : [];
    const token = await new ContractFactory(artifact.abi, artifact.bytecode, deployer()).deploy(...args);
    await token.waitForDeployment();
    const contract = new Contract(await token.getAddress(), artifact.abi, deployer());
    if (minted > 0n) await (await contract.mint(deployer().address, minted)).wait();
    return contract;
  }

  function newDeploymentId(): string {
    const deploymentId = `test-token-check-${process.pid}-${ids.length}`;
    ids.push(deploymentId);
    return deploymentId;
  }

  /**
   * The ProofMarket module on `token`, and the contracts the attempt created on chain (the market's, if any).
   * @param deploymentId an earlier attempt's, to resume it as a deployer would after fixing what it reported
   */
  async function deployMarketOn(
    token: Contract,
    deploymentId = newDeploymentId(),
  ): Promise<{ deployment: IgnitionDeployment | null; failure: Error | null; created: string[] }> {
    const parameters = path.join(scratch, `${deploymentId}.json`);
    writeFileSync(parameters, JSON.stringify({ ProofMarket: { token: await token.getAddress() } }));
    const firstBlock = (await chain.provider.getBlockNumber()) + 1;
    let deployment: IgnitionDeployment | null = null;
    let failure: Error | null = null;
    try {
      deployment = await deployWithIgnition({
        rpcUrl: chain.url,
        deployerKey: deployer().privateKey,
        module: "ProofMarket",
        deploymentId,
        parameters,
      });
    } catch (e) {
      failure = e as Error;
    }
    return { deployment, failure, created: await contractsCreatedSince(firstBlock) };
  }

  async function contractsCreatedSince(firstBlock: number): Promise<string[]> {
    const created: string[] = [];
    for (let n = firstBlock; n <= (await chain.provider.getBlockNumber()); n++) {
      const block = await chain.provider.getBlock(n);
      for (const hash of block!.transactions) {
        const receipt = await chain.provider.getTransactionReceipt(hash);
        if (receipt?.contractAddress) created.push(receipt.contractAddress);
      }
    }
    return created;
  }

  /** Whether the only contract the failed attempt created is the probe: no market exists. */
  async function onlyTheProbe(created: string[]): Promise<boolean> {
    const probeCode = (contractArtifact("TokenTransferProbe") as { deployedBytecode?: string }).deployedBytecode;
    return created.length === 1 && (await chain.provider.getCode(created[0])) === probeCode;
  }

  it("deploys the market on a well-behaved token, and the deployer gets the probe amount back", async function () {
    const token = await deployToken("TestToken", AMOUNT);
    const { deployment, failure } = await deployMarketOn(token);
    expect(failure).to.equal(null);
    const market = connectMarket(deployment!.market, chain.provider);
    expect(await market.token()).to.equal(await token.getAddress());
    const probe = deployment!.addresses["ProofMarket#TokenTransferProbe"];
    expect(await token.balanceOf(deployer().address)).to.equal(AMOUNT);
    expect(await token.balanceOf(probe)).to.equal(0n);
    expect(await token.allowance(deployer().address, probe)).to.equal(0n);
  });

  const hostile = [
    {
      token: "FeeOnTransferToken",
      what: "keeps 1% of every transfer",
      error: `TokenMovesWrongAmount("in: transferFrom(deployer -> probe)", ${AMOUNT}, ${AMOUNT}, ${AMOUNT - AMOUNT / 100n})`,
    },
    {
      token: "SenderSurchargeToken",
      what: "charges the sender 1% extra on the way out (invisible to the market's inbound check)",
      error: `TokenMovesWrongAmount("out: transfer(probe -> deployer)", ${HALF}, ${HALF + HALF / 100n}, ${HALF})`,
    },
    {
      token: "OverpayingToken",
      what: "delivers 1% more than asked on transferFrom",
      error: `TokenMovesWrongAmount("in: transferFrom(deployer -> probe)", ${AMOUNT}, ${AMOUNT}, ${AMOUNT + AMOUNT / 100n})`,
    },
  ];
  for (const { token: name, what, error } of hostile) {
    it(`refuses ${name}, which ${what}, before any market exists`, async function () {
      const token = await deployToken(name, AMOUNT);
      const { deployment, failure, created } = await deployMarketOn(token);
      expect(deployment).to.equal(null);
      expect(failure?.message).to.contain(error);
      expect(await onlyTheProbe(created), `contracts created: ${created.join(", ")}`).to.equal(true);
    });
  }

  it("tells a deployer that holds none of the token so, and what to do; done, the deployment resumes", async function () {
    const token = await deployToken("TestToken", 0n);
    const deploymentId = newDeploymentId();
    const { deployment, failure, created } = await deployMarketOn(token, deploymentId);
    expect(deployment).to.equal(null);
    expect(failure?.message).to.contain(
      `ProbeAmountNotHeld("${deployer().address}", 0, ${AMOUNT}, "the deployer must hold`,
    );
    expect(failure?.message).to.contain("lower the tokenProbeAmount parameter");
    expect(await onlyTheProbe(created)).to.equal(true);

    await (await token.mint(deployer().address, AMOUNT)).wait();
    const resumed = await deployMarketOn(token, deploymentId);
    expect(resumed.failure).to.equal(null);
    expect(await connectMarket(resumed.deployment!.market, chain.provider).token()).to.equal(await token.getAddress());
  });
});
