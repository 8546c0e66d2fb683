/**
 * The requester's CLI as a user meets it, spawned as a process: help without a chain, version, usage errors
 * (exit 2), the faucet on a real local chain, an unreachable chain in one line.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { formatEther, Wallet } from "ethers";
import { freePort, type LocalChain, startLocalChain } from "../../dev/localNode.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectToken } from "../../common/contracts/artifacts.ts";
import { exampleCircuitId } from "../../common/deploy/circuitRegistration.ts";
import { deployDevnet, type DevnetDeployment } from "../../dev/devnet.ts";
import { runRequester } from "./helpers.ts";

const run = runRequester;

describe("proofmarket-requester CLI", function () {
  let chain: LocalChain;
  let deployment: DevnetDeployment;

  before(async function () {
    chain = await startLocalChain();
    deployment = await deployDevnet(chain.accounts[0]);
  });

  after(async function () {
    await chain?.stop();
  });

  it("shows help without a chain, its version, and exits 2 on any bad usage", async function () {
    const help = await run(["help"]);
    expect(help.code).to.equal(0);
    for (const command of ["register", "post", "status", "watch", "quote", "proof", "cancel", "expire", "faucet"])
      expect(help.stdout).to.match(new RegExp(`^  ${command}\\b`, "m"));
    const postHelp = (await run(["post", "--help"])).stdout.replace(/\s+/g, " ");
    expect(postHelp).to.contain('--window <seconds> the proving window a claim gets (default: "300")');
    expect(postHelp).to.contain("JSON-RPC URL of the chain (env: PM_RPC_URL)");
    // The price options, their defaults and why.
    expect(postHelp).to.contain("--min-fee <amount> the price the job opens at (default: a tenth of --max-fee)");
    expect(postHelp).to.contain(
      "--ramp <seconds> how long the price takes to rise from --min-fee to --max-fee (default: 600)",
    );
    expect(postHelp).to.contain("--fee <amount> a fixed price instead of a ramp");
    expect(postHelp).to.contain(
      "Why the defaults (--min-fee a tenth of --max-fee, --ramp 600): a prover claims in the first block at or above " +
        "its own price, so it is paid at most one block's rise above it. Over 600 s a 12 s block raises the price by " +
        "(max - min)/50: at most 2% of --max-fee whatever the minimum",
    );
    expect(postHelp).to.contain("(--ramp-delay + --ramp <= --expires-in - --window)");
    const quoteHelp = (await run(["quote", "--help"])).stdout.replace(/\s+/g, " ");
    expect(quoteHelp).to.contain("--blocks <n> from the chain: the jobs posted in this many latest blocks");
    expect(quoteHelp).to.contain(
      '--source <where> where the prices are read (default: the coordinator when one is given, else the chain) (choices: "chain", "coordinator")',
    );
    expect(quoteHelp).to.contain("With no price to go by it says so, tells how to choose by hand, and exits 1.");
    expect((await run(["--version"])).stdout).to.match(/^\d+\.\d+\.\d+\n$/);

    const typo = await run(["stauts", "1"]);
    expect([typo.code, typo.stderr]).to.deep.equal([2, "error: unknown command 'stauts'\n(Did you mean status?)\n"]);
    const unknownOption = await run(["status", "1", "--rpc-ur", "http://127.0.0.1:1"]);
    expect(unknownOption.code).to.equal(2);
    expect(unknownOption.stderr).to.contain("(Did you mean --rpc-url?)");
    const missing = await run(["post", "--circuit", "1"]);
    expect([missing.code, missing.stderr]).to.deep.equal([
      2,
      "error: required option '--inputs <file>' not specified\n",
    ]);
    const badAmount = await run(["post", "--circuit", "1", "--inputs", "x.json", "--fee", "1e3", "--bond", "1"]);
    expect(badAmount.code).to.equal(2);
    expect(badAmount.stderr).to.match(/^--fee: expected a token amount, got 1e3/);
    // The price is checked before the chain is asked anything.
    const noPrice = await run(["post", "--circuit", "1", "--inputs", "x.json", "--bond", "1"], { PM_RPC_URL: "" });
    expect(noPrice.code).to.equal(2);
    expect(noPrice.stderr).to.match(/^no price: give --max-fee AMOUNT .* or --fee AMOUNT \(a fixed price\)/);
    const both = await run([
      "post",
      "--circuit",
      "1",
      "--inputs",
      "x.json",
      "--bond",
      "1",
      "--fee",
      "1",
      "--ramp",
      "60",
    ]);
    expect([both.code, both.stderr]).to.deep.equal([
      2,
      "error: option '--fee <amount>' cannot be used with option '--ramp <seconds>'\n",
    ]);
    const noChain = await run(["status", "1"], { PM_RPC_URL: "" });
    expect([noChain.code, noChain.stderr]).to.deep.equal([2, "no chain: give --rpc-url URL or PM_RPC_URL\n"]);
  });

  it("the faucet mints the test token to an address and prints its balance", async function () {
    const to = Wallet.createRandom().address;
    const result = await run(["faucet", "25", "--to", to], {
      PM_RPC_URL: chain.url,
      PM_MARKET_ADDRESS: deployment.market,
      PM_PRIVATE_KEY: chain.accounts[3].privateKey,
    });
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.equal(`minted 25.0 PMT to ${to}; balance now 25.0 PMT\n`);
    expect(formatEther(await connectToken(deployment.token, chain.provider).balanceOf(to))).to.equal("25.0");
  });

  it("says in one line when nothing answers at the RPC URL", async function () {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await run(["status", "1", "--rpc-url", url], {
      PM_MARKET_ADDRESS: deployment.market,
      PM_PRIVATE_KEY: chain.accounts[3].privateKey,
    });
    expect([result.code, result.stderr]).to.deep.equal([
      1,
      `error: cannot reach the chain at ${url}: is the node running? set --rpc-url or PM_RPC_URL\n`,
    ]);
  });

  it("names an unknown job, a file that is no manifest and an unreachable coordinator, in one line each (exit 2)", async function () {
    const env = {
      PM_RPC_URL: chain.url,
      PM_MARKET_ADDRESS: deployment.market,
      PM_PRIVATE_KEY: chain.accounts[3].privateKey,
    };
    const noJob = `no job 99 on market ${deployment.market}\n`;
    for (const command of ["status", "watch"]) {
      const result = await run([command, "99"], env);
      expect([result.code, result.stderr], command).to.deep.equal([2, noJob]);
    }

    const scratch = mkdtempSync(path.join(os.tmpdir(), "pm-requester-cli-"));
    const notAManifest = path.join(scratch, "inputs.json");
    writeFileSync(notAManifest, JSON.stringify({ a: "1" }));
    // Checked before the chain is asked anything: no RPC URL is needed to learn the file is wrong.
    const wrongFile = await run(["register", notAManifest, "groth16"], { PM_RPC_URL: "" });
    expect([wrongFile.code, wrongFile.stderr]).to.deep.equal([
      2,
      `${notAManifest} is not a circuit manifest (no name, wasm, inputs, systems): give the manifest.json that ` +
        "`npm run circuits:build` wrote\n",
    ]);
    const missing = await run(["register", path.join(scratch, "none.json"), "groth16"], { PM_RPC_URL: "" });
    expect(missing.code).to.equal(2);
    expect(missing.stderr).to.match(/^cannot read manifest .*none\.json \(ENOENT\): give the manifest\.json/);

    const inputs = path.join(scratch, "preimage.json");
    writeFileSync(inputs, JSON.stringify(await exampleInputs("poseidon_preimage", "cli")));
    const coordinator = `http://127.0.0.1:${await freePort()}`;
    const circuit = String(exampleCircuitId("poseidon_preimage", "groth16"));
    const post = ["post", "--circuit", circuit, "--inputs", inputs, "--fee", "1", "--bond", "1"];
    const unreachable = await run([...post, "--coordinator", coordinator], env);
    expect([unreachable.code, unreachable.stderr]).to.deep.equal([
      2,
      `cannot reach the coordinator at ${coordinator}: is it running? set --coordinator or PM_COORDINATOR_URL (or ` +
        "leave it out to send the inputs inline as a data: URI)\n",
    ]);
    // A URL that answers, but is no coordinator (the chain's JSON-RPC endpoint answers a POST with an error).
    const wrong = await run([...post, "--coordinator", chain.url], env);
    expect(wrong.code).to.equal(2);
    expect(wrong.stderr).to.match(/^the coordinator at http:\/\/127\.0\.0\.1:\d+ .*: is that URL a coordinator\?\n$/);
    rmSync(scratch, { recursive: true, force: true });
  });
});
