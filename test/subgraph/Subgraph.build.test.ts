/**
 * The subgraph builds offline with graph-cli: its ABI and subgraph.yaml are the ones the contracts produce today,
 * networks.json is filled from a real Ignition deployment (on a local node), and `graph codegen` and
 * `graph build --network localhost` compile the AssemblyScript mappings into a deployable build with that
 * deployment's address and start block. (Run in a copy of subgraph/, since `--network` rewrites subgraph.yaml.)
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { deployWithIgnition, ignitionDeploymentDir } from "../../common/deploy/ignitionDeploy.ts";
import { SUBGRAPH_DIR, subgraphFiles } from "../../subgraph/tool/manifest.ts";
import { writeNetworks } from "../../subgraph/tool/networks.ts";
import { type LocalChain, startLocalChain } from "../../dev/localNode.ts";

const GRAPH = path.join(REPO_ROOT, "node_modules", "@graphprotocol", "graph-cli", "bin", "run.js");

function graph(args: string[], cwd: string): Promise<{ code: number | null; output: string }> {
  const proc = spawn(process.execPath, [GRAPH, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout.on("data", (d) => (output += d));
  proc.stderr.on("data", (d) => (output += d));
  return new Promise((resolve) => proc.once("exit", (code) => resolve({ code, output })));
}

describe("subgraph build", function () {
  let chain: LocalChain;
  const deploymentId = `test-subgraph-${process.pid}`;

  before(async function () {
    chain = await startLocalChain();
  });

  after(async function () {
    rmSync(ignitionDeploymentDir(deploymentId), { recursive: true, force: true });
    await chain?.stop();
  });

  it("its ABI and subgraph.yaml are generated from the contracts and up to date", function () {
    const { abi, manifest } = subgraphFiles();
    expect(readFileSync(path.join(SUBGRAPH_DIR, "abis", "ProofMarket.json"), "utf8")).to.equal(
      abi,
      "run npm run subgraph:manifest",
    );
    expect(readFileSync(path.join(SUBGRAPH_DIR, "subgraph.yaml"), "utf8")).to.equal(
      manifest,
      "run npm run subgraph:manifest",
    );
    expect(manifest).to.contain(
      "JobReassigned(indexed uint256,indexed address,indexed address,uint16,uint96,uint96,uint40,(uint96,uint96,uint96,uint96,uint96))",
    );
  });

  it("networks.json from an Ignition deployment; graph codegen and graph build --network localhost", async function () {
    const deployment = await deployWithIgnition({
      rpcUrl: chain.url,
      deployerKey: chain.accounts[0].privateKey,
      module: "Devnet",
      deploymentId,
    });
    const work = mkdtempSync(path.join(os.tmpdir(), "pm-subgraph-"));
    try {
      for (const entry of ["schema.graphql", "subgraph.yaml", "abis", "src"])
        cpSync(path.join(SUBGRAPH_DIR, entry), path.join(work, entry), { recursive: true });
      symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(work, "node_modules"));
      const networksFile = path.join(work, "networks.json");
      const networks = writeNetworks("localhost", deployment.dir, networksFile);
      expect(networks.localhost.ProofMarket).to.deep.equal({
        address: deployment.market,
        startBlock: deployment.startBlock,
      });

      const codegen = await graph(["codegen", "subgraph.yaml"], work);
      expect(codegen.code, codegen.output).to.equal(0);
      const build = await graph(
        ["build", "subgraph.yaml", "--network", "localhost", "--network-file", networksFile],
        work,
      );
      expect(build.code, build.output).to.equal(0);
      expect(existsSync(path.join(work, "build", "ProofMarket", "ProofMarket.wasm"))).to.equal(true);
      const built = readFileSync(path.join(work, "build", "subgraph.yaml"), "utf8");
      expect(built).to.contain(`address: "${deployment.market}"`);
      expect(built).to.contain(`startBlock: ${deployment.startBlock}`);
      expect(built).to.contain("network: localhost");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
