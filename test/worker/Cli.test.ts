/**
 * The operator's CLI as a user meets it, spawned as a process against a real local chain: help, version, usage
 * errors (exit 2), `init` writing a config that `status` and `run` take unchanged (loopback inputs allowed for a
 * development chain only), JSONC configs, the faucet (and its refusal on a market whose token is not the test
 * token), decoded reverts, an unreachable chain, and `trust` listing and clearing circuit verdicts.
 */
import { writeFileSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { once } from "node:events";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { ContractFactory, JsonRpcProvider, parseEther, Wallet } from "ethers";
import { freePort } from "../../dev/localNode.ts";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { contractArtifact } from "../../common/contracts/artifacts.ts";
import { DEV_MARKET_PARAMS, DEV_UNBONDING_DELAY } from "../../common/deploy/marketParams.ts";
import { loadConfig } from "../../prover-worker/src/config.ts";
import { MEASURED_GAS } from "../../prover-worker/src/pricing.ts";
import { initWorkerConfig } from "../../prover-worker/src/init.ts";
import { openStore } from "../../prover-worker/src/store.ts";
import { type Devnet, startDevnet } from "../helpers/market.ts";
import { startWorker, workerCommand } from "../helpers/workerProcess.ts";

const NO_STACK = /^\s+at /m;

describe("proofmarket-worker CLI", function () {
  let devnet: Devnet;
  let dir: string;
  let fresh: Wallet;

  before(async function () {
    devnet = await startDevnet();
    dir = mkdtempSync(path.join(os.tmpdir(), "pm-worker-cli-"));
    fresh = Wallet.createRandom() as unknown as Wallet;
    await (await devnet.chain.accounts[0].sendTransaction({ to: fresh.address, value: parseEther("1") })).wait();
  });

  after(async function () {
    await devnet?.chain.stop();
  });

  const initConfig = async (name: string, extra: string[] = []) => {
    const out = path.join(dir, name, "worker.json");
    const result = await workerCommand(
      [
        "init",
        "--rpc-url",
        devnet.chain.url,
        "--market",
        devnet.deployment.market,
        "--circuit",
        "1",
        "--out",
        out,
        ...extra,
      ],
      fresh.privateKey,
    );
    return { out, ...result };
  };

  it("shows help with each option's variable and default, its version, and exits 2 on any bad usage", async function () {
    const help = await workerCommand(["--help"], "");
    expect(help.code).to.equal(0);
    for (const command of ["init", "stake", "unstake", "withdraw", "status", "trust", "bench", "run", "faucet"])
      expect(help.stdout).to.match(new RegExp(`^  ${command}\\b`, "m"));
    expect(help.stdout).to.match(/--rpc-url <url>\s+JSON-RPC URL of the chain \(env: PM_RPC_URL\)/);
    expect(help.stdout.replace(/\s+/g, " ")).to.contain("(default: the config's slots, else 2, env: PM_SLOTS)");
    const stakeHelp = await workerCommand(["help", "stake"], "");
    expect(stakeHelp.code).to.equal(0);
    expect(stakeHelp.stdout).to.match(/Usage: proofmarket-worker stake \[options\] <amount>/);
    // Whatever the wrapping of the help's columns.
    expect(stakeHelp.stdout.replace(/\s+/g, " ")).to.contain("env: PM_DATA_DIR");
    const initHelp = await workerCommand(["init", "--help"], "");
    expect(initHelp.stdout).to.match(/--out <file>\s+where to write the config \(default: "worker.json"\)/);

    const version = await workerCommand(["--version"], "");
    const { version: expected } = JSON.parse(
      readFileSync(path.join(import.meta.dirname, "../../package.json"), "utf8"),
    );
    expect(version.stdout.trim()).to.equal(expected);

    const typo = await workerCommand(["stak", "5"], "");
    expect([typo.code, typo.stderr]).to.deep.equal([2, "error: unknown command 'stak'\n(Did you mean stake?)\n"]);
    const unknownOption = await workerCommand(["status", "--confg", "x.json"], "");
    expect(unknownOption.code).to.equal(2);
    expect(unknownOption.stderr).to.contain("(Did you mean --config?)");
    const missing = await workerCommand(["stake"], "");
    expect([missing.code, missing.stderr]).to.deep.equal([2, "error: missing required argument 'amount'\n"]);
    const badAmount = await workerCommand(["stake", "lots"], "");
    expect(badAmount.code).to.equal(2);
    expect(badAmount.stderr).to.match(/^stake: expected a token amount, got lots/);
    const noFile = await workerCommand(["status", "--config", path.join(dir, "nope.json")], "");
    expect(noFile.code).to.equal(2);
    expect(noFile.stderr).to.match(
      /^cannot read config file .*nope\.json: ENOENT \(`proofmarket-worker init --out FILE` writes one\)\n$/,
    );
  });

  it("init writes a commented config that loadConfig, status and run take unchanged; its dataDir lies beside it", async function () {
    const { out, code, stderr } = await initConfig("init");
    expect(code, stderr).to.equal(0);
    const text = readFileSync(out, "utf8");
    expect(text).to.match(/^\s*\/\/ .*keeper/m);
    expect(text).to.contain("rapidsnark");
    const { config, circuits, warnings } = loadConfig(out);
    expect(config.marketAddress).to.equal(devnet.deployment.market);
    // Prices: each circuit's floor and per proving second, written out to be set; a devnet's gas counted as free
    // (its test token has no price in ETH), at the measured gas; nothing to warn about.
    expect(circuits[0].price).to.deep.equal({ floor: 0n, perProvingSecond: 0n });
    expect(config.pricing).to.deep.equal({
      tokensPerEth: 0n,
      claimGas: MEASURED_GAS.claim,
      submitGas: MEASURED_GAS.submit,
    });
    expect(text).to.match(/"price": \{ "floor": "0", "perProvingSecond": "0" \}/);
    expect(text).not.to.contain("minFee");
    expect(warnings).to.deep.equal([]);
    expect(config.dataDir).to.equal(path.join(path.dirname(out), ".prover-worker"));
    // A development chain (Hardhat's, 31337) on this machine: a devnet, whose coordinator serves inputs locally.
    expect(config.inputsFetch.allowLoopback).to.equal(true);
    expect(text).to.contain("The chain is a development chain (id 31337) on this machine");
    expect(circuits.map((c) => [c.circuitId, c.manifestData.name])).to.deep.equal([
      [1, devnet.deployment.circuits[0].name],
    ]);

    const again = await initConfig("init");
    expect(again.code).to.equal(2);
    expect(again.stderr).to.match(/exists: give --force to overwrite it\n$/);
    expect((await initConfig("init", ["--force"])).code).to.equal(0);

    const status = await workerCommand(["status", "--config", out], fresh.privateKey);
    expect(status.code, status.stderr).to.equal(0);
    const shown = JSON.parse(status.stdout);
    expect(shown.prover).to.equal(fresh.address);
    // The worker has not run: status prices the circuit itself, from the configured estimate (no bench yet).
    expect(shown.circuits[0].reservation).to.deep.include({ price: "0.0", floor: "0.0" });
    expect(shown.circuits[0].reservation.proving).to.deep.include({ seconds: 15, source: "estimate" });
    expect(shown.circuits[0].reservation.by).to.match(/^status, now/);
    expect(shown.recentClaims).to.deep.equal([]);
    expect(existsSync(path.join(path.dirname(out), ".prover-worker"))).to.equal(true);

    // The metrics port taken (another worker on this machine): one line saying what to change.
    const holder = createServer().listen(0, "127.0.0.1");
    await once(holder, "listening");
    const taken = (holder.address() as { port: number }).port;
    const clash = await workerCommand(["run", "--config", out, "--metrics-port", String(taken)], fresh.privateKey);
    holder.close();
    expect([clash.code, clash.stderr]).to.deep.equal([
      2,
      `port ${taken} (metrics and health) is in use, by another worker perhaps: set metrics.port in the config, or ` +
        "--metrics-port N (PM_METRICS_PORT; 0: any free port)\n",
    ]);

    const worker = startWorker(out, fresh.privateKey, { PM_METRICS_PORT: "0" });
    await worker.waitForLog((l) => l.msg === "metrics and health listening", 30_000);
    worker.proc.kill("SIGTERM");
    expect(await worker.exited).to.equal(0);
  });

  it("init allows loopback inputs only for a development chain: not for another chain's node on 127.0.0.1", async function () {
    // The devnet's node, as a mainnet node on this machine would answer: chain id 1.
    const mainnetOnLoopback = new JsonRpcProvider(devnet.chain.url, 1, { staticNetwork: true });
    try {
      const out = path.join(dir, "mainnet-node", "worker.json");
      await initWorkerConfig({
        provider: mainnetOnLoopback,
        rpcUrl: devnet.chain.url,
        marketAddress: devnet.deployment.market,
        circuits: ["1"],
        out,
        force: false,
      });
      const loaded = loadConfig(out);
      expect(loaded.config.inputsFetch.allowLoopback).to.equal(false);
      // Not a devnet: the token's price in ETH is the operator's to write; until then gas is not counted, and
      // `run` warns saying what to set.
      expect(loaded.config.pricing.tokensPerEth).to.equal(undefined);
      expect(readFileSync(out, "utf8")).to.match(/\/\/ "tokensPerEth": "\d+",/);
      expect(loaded.warnings.join("\n")).to.contain("pricing.tokensPerEth is not set");
      expect(readFileSync(out, "utf8").replace(/\s*\/\/\s*/g, " ")).to.contain(
        "init turns it on only for a development chain (id 31337 or 1337) on this machine, and this is chain 1.",
      );
    } finally {
      mainnetOnLoopback.destroy();
    }
  });

  it("trust lists the circuits kept out of service and clears one; status lists them too", async function () {
    const { out } = await initConfig("trust");
    const trust = (...args: string[]) => workerCommand(["trust", "--config", out, ...args], fresh.privateKey);
    const none = await trust();
    expect([none.code, JSON.parse(none.stdout)]).to.deep.equal([0, []]);

    const store = openStore(loadConfig(out).config.dataDir);
    const verifier = "0x" + "11".repeat(20);
    store.putVerdict({
      circuitId: 1,
      code: { verifier, verifierCodeHash: "0x" + "ab".repeat(32), batchVerifier: null, batchVerifierCodeHash: null },
      reason: "the circuit's verifier refused a proof that verifies against the verification key: InvalidProof(7)",
      jobId: 7n,
      txHash: null,
      at: Date.UTC(2025, 0, 2),
    });
    store.close();
    const listed = {
      circuitId: 1,
      since: "2025-01-02T00:00:00.000Z",
      reason: "the circuit's verifier refused a proof that verifies against the verification key: InvalidProof(7)",
      jobId: "7",
      tx: null,
      verifier,
      batchVerifier: null,
      clear: "proofmarket-worker trust --clear 1",
    };
    expect(JSON.parse((await trust()).stdout)).to.deep.equal([listed]);
    const status = await workerCommand(["status", "--config", out], fresh.privateKey);
    expect(status.code, status.stderr).to.equal(0);
    expect(JSON.parse(status.stdout).circuitsOutOfService).to.deep.equal([listed]);

    const help = await workerCommand(["trust", "--help"], "");
    expect(help.stdout).to.match(/--clear <circuitId>\s+forget the circuit's verdict/);
    expect(help.stdout.replace(/\s+/g, " ")).to.contain("Every later start refuses the circuit while that code stays");
    const bad = await trust("--clear", "one");
    expect([bad.code, bad.stderr]).to.deep.equal([2, "--clear: expected a circuit id, got one\n"]);
    const cleared = await trust("--clear", "1");
    expect([cleared.code, cleared.stdout]).to.deep.equal([
      0,
      "cleared the verdict on circuit 1: the worker's next start checks it and serves it again\n",
    ]);
    expect(JSON.parse((await trust()).stdout)).to.deep.equal([]);
    const again = await trust("--clear", "1");
    expect(again.code).to.equal(2);
    expect(again.stderr).to.match(/^no verdict is stored for circuit 1 in /);

    // It reads the data folder only: a config that names nothing else (no chain, no market) will do.
    const dataOnly = path.join(path.dirname(out), "data-only.json");
    writeFileSync(dataOnly, JSON.stringify({ dataDir: loadConfig(out).config.dataDir }));
    const local = await workerCommand(["trust", "--config", dataOnly], "");
    expect([local.code, local.stderr, JSON.parse(local.stdout)]).to.deep.equal([0, "", []]);
    const unknownJob = await workerCommand(["status", "--job", "12", "--config", dataOnly], "");
    expect(unknownJob.code).to.equal(2);
    expect(unknownJob.stderr).to.match(/^job 12 is not in this worker's book \(.*\): not posted, not read yet/);
  });

  it("init offers a rapidsnark found on the PATH to Groth16 circuits, and no other program named prover", async function () {
    const withPath = async (name: string, script: string) => {
      const bin = mkdtempSync(path.join(os.tmpdir(), "pm-path-"));
      writeFileSync(path.join(bin, "prover"), script, { mode: 0o755 });
      const savedPath = process.env.PATH;
      process.env.PATH = `${bin}:${savedPath}`; // the CLI is spawned with this environment
      try {
        const { out, code, stderr } = await initConfig(name);
        expect(code, stderr).to.equal(0);
        return { prover: path.join(bin, "prover"), ...loadConfig(out) };
      } finally {
        process.env.PATH = savedPath;
      }
    };
    // The stand-in answers with rapidsnark's usage line, as the real binary does.
    const standIn = path.join(REPO_ROOT, "test", "helpers", "standInProver.ts");
    const found = await withPath("rapidsnark", `#!/bin/sh\nexec "${process.execPath}" "${standIn}" "$@"\n`);
    expect(found.config.backends.rapidsnark?.binary).to.equal(found.prover);
    expect(found.circuits.map((c) => c.backend)).to.deep.equal(["rapidsnark"]);

    const impostor = await withPath("impostor", "#!/bin/sh\necho 'a prover of something else'\n");
    expect(impostor.config.backends.rapidsnark).to.equal(undefined);
    expect(impostor.circuits.map((c) => c.backend)).to.deep.equal(["snarkjs"]);
  });

  it("reads JSONC (comments, trailing commas) and names the line and column of a syntax error", async function () {
    const base = path.join(dir, "jsonc");
    const { out } = await initConfig("jsonc");
    const commented = readFileSync(out, "utf8").replace('"slots": 2,', '"slots": 3, // more\n  /* block */');
    writeFileSync(out, commented);
    expect(loadConfig(out).config.slots).to.equal(3);
    const broken = path.join(base, "broken.json");
    writeFileSync(broken, '{\n  "slots": 2,\n  "rpcUrl" "x"\n}\n');
    const result = await workerCommand(["status", "--config", broken], fresh.privateKey);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.equal(`${broken}:3:12: ColonExpected (the config is JSON with comments)\n`);
  });

  it("without tokens, stake prints the decoded ERC20InsufficientBalance; the faucet funds the account, which then stakes", async function () {
    const { out } = await initConfig("faucet");
    const refused = await workerCommand(["stake", "50", "--config", out], fresh.privateKey);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.equal(
      `refused on chain: ERC20InsufficientBalance(${fresh.address}, 0, ${parseEther("50")})` +
        " (the account holds fewer tokens than that, in base units: on a devnet, `faucet` mints test tokens)\n",
    );
    expect(refused.stderr).not.to.match(NO_STACK);

    const minted = await workerCommand(["faucet", "100", "--config", out], fresh.privateKey);
    expect(minted.code, minted.stderr).to.equal(0);
    expect(minted.stdout).to.equal(`minted 100.0 PMT to ${fresh.address}; balance now 100.0 PMT\n`);
    const staked = await workerCommand(["stake", "50", "--config", out], fresh.privateKey);
    expect(staked.code, staked.stderr).to.equal(0);
    expect(staked.stdout).to.match(/^staked 50\.0; free stake now 50\.0/);
  });

  it("refuses the faucet on a market whose token is not the project's test token", async function () {
    const deployer = devnet.chain.accounts[0];
    const deploy = async (name: string, args: unknown[]) => {
      const { abi, bytecode } = contractArtifact(name);
      const contract = await new ContractFactory(abi, bytecode, deployer).deploy(...args);
      await contract.waitForDeployment();
      return contract.getAddress();
    };
    const token = await deploy("FeeOnTransferToken", []);
    const market = await deploy("ProofMarket", [
      token,
      deployer.address,
      deployer.address,
      DEV_UNBONDING_DELAY,
      DEV_MARKET_PARAMS,
    ]);
    const { out } = await initConfig("other-token");
    const result = await workerCommand(["faucet", "--config", out, "--market", market], fresh.privateKey);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.equal(
      `the market's token ${token} is not the project's test token: the faucet only exists on devnets and Devnet deployments\n`,
    );
  });

  it("says in one line when nothing answers at the RPC URL", async function () {
    const { out } = await initConfig("unreachable");
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await workerCommand(["status", "--config", out, "--rpc-url", url], fresh.privateKey);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.equal(
      `error: cannot reach the chain at ${url}: is the node running? set --rpc-url or PM_RPC_URL\n`,
    );
  });
});
