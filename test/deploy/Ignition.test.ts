/**
 * The Ignition modules deploy through the same code path as a testnet (the `custom` network: an RPC URL and a
 * deployer key), here against a real local node; the worker and the coordinator then take the market's address
 * and deployment block from Ignition's output instead of a copy.
 */
import { rmSync } from "node:fs";
import { expect } from "chai";
import { Contract } from "ethers";
import { connectMarket, connectToken } from "../../common/contracts/artifacts.ts";
import { exampleCircuitRegistrations } from "../../common/deploy/circuitRegistration.ts";
import { deployWithIgnition, ignitionDeploymentDir } from "../../common/deploy/ignitionDeploy.ts";
import type { IgnitionDeployment } from "../../common/deploy/ignitionDeployment.ts";
import { type LocalChain, startLocalChain } from "../../dev/localNode.ts";
import { workerCommand, writeWorkerConfig } from "../helpers/workerProcess.ts";

describe("Ignition deployment to a chain given by RPC URL", function () {
  let chain: LocalChain;
  const ids: string[] = [];

  before(async function () {
    chain = await startLocalChain();
  });

  after(async function () {
    for (const id of ids) rmSync(ignitionDeploymentDir(id), { recursive: true, force: true });
    await chain?.stop();
  });

  async function deploy(module: string, parameters?: string): Promise<IgnitionDeployment> {
    const deploymentId = `test-${module}-${process.pid}-${ids.length}`;
    ids.push(deploymentId);
    return deployWithIgnition({
      rpcUrl: chain.url,
      deployerKey: chain.accounts[0].privateKey,
      module,
      deploymentId,
      parameters,
    });
  }

  it("Devnet: a test token, the market and every example circuit registered in catalog order", async function () {
    const deployment = await deploy("Devnet");
    expect(deployment.chainId).to.equal(31337);
    expect(deployment.token).to.match(/^0x[0-9a-fA-F]{40}$/);
    const market = connectMarket(deployment.market, chain.provider);
    expect(await market.token()).to.equal(deployment.token);
    const expected = exampleCircuitRegistrations();
    expect(await market.circuitCount()).to.equal(BigInt(expected.length));
    for (const [i, r] of expected.entries()) {
      const circuit = await market.circuit(i + 1);
      expect(circuit.name).to.equal(`${r.name}/${r.system}`);
      expect(circuit.verifier).to.equal(deployment.addresses[`Devnet#${r.key}_verifier`]);
    }
    // The deployment block is where the market's first event is.
    const logs = await chain.provider.getLogs({ address: deployment.market, fromBlock: 0 });
    expect(logs[0].blockNumber).to.equal(deployment.startBlock);

    // The worker reads the market from the deployment folder.
    const { file } = writeWorkerConfig({
      rpcUrl: chain.url,
      deployment: deployment.dir,
      circuits: [{ circuitId: 1, manifest: "poseidon_preimage", system: "groth16" }],
    });
    const mintable = new Contract(deployment.token!, ["function mint(address,uint256)"], chain.accounts[0]);
    await (await mintable.mint(chain.accounts[5].address, 10n ** 20n)).wait();
    const staked = await workerCommand(["stake", "5", "--config", file], chain.accounts[5].privateKey);
    expect(staked.code, staked.stderr).to.equal(0);
    expect((await market.account(chain.accounts[5].address)).staked).to.equal(5n * 10n ** 18n);
  });

  it("ProofMarket on an existing token, parameters from a file; a missing deployment is named", async function () {
    const token = connectToken((await deploy("Devnet")).token!, chain.provider);
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const parameters = path.join(mkdtempSync(path.join(os.tmpdir(), "pm-ignition-")), "params.json");
    writeFileSync(
      parameters,
      JSON.stringify({ ProofMarket: { token: await token.getAddress(), minBond: "5000000000000000000n" } }),
    );
    const deployment = await deploy("ProofMarket", parameters);
    expect(deployment.token).to.equal(null);
    const market = connectMarket(deployment.market, chain.provider);
    expect(await market.token()).to.equal(await token.getAddress());
    expect((await market.params()).minBond).to.equal(5n * 10n ** 18n);
    expect(await market.circuitCount()).to.equal(0n);

    const { file } = writeWorkerConfig({
      rpcUrl: chain.url,
      deployment: "/nonexistent/deployment",
      circuits: [{ circuitId: 1, manifest: "poseidon_preimage", system: "groth16" }],
    });
    const result = await workerCommand(["status", "--config", file], chain.accounts[5].privateKey);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.contain("deployment: /nonexistent/deployment is not a finished Ignition deployment");
  });
});
