/**
 * The requester CLI against a real local chain with a real worker: register a circuit, post a job, watch it to
 * Proved, get the proof back from the proving transaction and check it with plain `snarkjs groth16 verify`;
 * cancel and expire jobs; and bad inputs refused with a message before anything is sent.
 */
import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { manifestPath, REPO_ROOT } from "../../common/circuits/catalog.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import { advanceTime, type Devnet, startDevnet, workerConfigFor } from "../helpers/market.ts";
import { stakedWorkerConfig, startWorker } from "../helpers/workerProcess.ts";
import { runProcess } from "../helpers/runProcess.ts";
import { REQUESTER_CLI, requesterEnv } from "./helpers.ts";

const SNARKJS = path.join(REPO_ROOT, "node_modules", "snarkjs", "build", "cli.cjs");

const run = (args: string[], env: Record<string, string> = {}, program = REQUESTER_CLI) =>
  runProcess(process.execPath, [program, ...args], { env });

describe("requester CLI", function () {
  let devnet: Devnet;
  let env: Record<string, string>;
  const dir = mkdtempSync(path.join(os.tmpdir(), "pm-requester-"));
  const inputsFile = async (seed: string, change: Record<string, unknown> = {}) => {
    const file = path.join(dir, `${seed}.json`);
    writeFileSync(file, JSON.stringify({ ...(await exampleInputs("poseidon_preimage", seed)), ...change }));
    return file;
  };

  before(async function () {
    devnet = await startDevnet();
    env = requesterEnv(devnet);
  });

  after(async function () {
    await devnet?.chain.stop();
  });

  it("registers a circuit, posts a job, watches it proved, and gets a proof plain snarkjs verifies", async function () {
    const registered = await run(["register", manifestPath("poseidon_preimage"), "groth16"], env);
    expect(registered.code, registered.stderr).to.equal(0);
    const circuitId = JSON.parse(registered.stdout).circuitId as string;
    expect(BigInt(circuitId)).to.equal(BigInt(devnet.deployment.circuits.length + 1));

    const prover = devnet.chain.accounts[1];
    const { file } = await stakedWorkerConfig(
      prover,
      workerConfigFor(devnet, [{ circuitId: BigInt(circuitId), manifest: "poseidon_preimage", system: "groth16" }]),
    );
    const worker = startWorker(file, prover.privateKey);
    try {
      const posted = await run(
        ["post", "--circuit", circuitId, "--inputs", await inputsFile("req-1"), "--fee", "2.5", "--bond", "2"],
        env,
      );
      expect(posted.code, posted.stderr).to.equal(0);
      const { jobId, inputsURI } = JSON.parse(posted.stdout);
      expect(inputsURI).to.match(/^data:application\/json;base64,/);

      const watched = await run(["watch", jobId], env);
      expect(watched.code, watched.stderr).to.equal(0);
      const statuses = watched.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).status);
      expect(statuses.at(-1)).to.equal("Proved");
      // A fixed fee: the prover is paid all of it, nothing comes back.
      const proved = JSON.parse((await run(["status", jobId], env)).stdout);
      expect(proved).to.deep.include({ status: "Proved", minFee: "2.5", maxFee: "2.5", paid: "2.5", refund: "0.0" });

      const out = path.join(dir, "proof");
      const fetched = await run(["proof", jobId, "--out", out], env);
      expect(fetched.code, fetched.stderr).to.equal(0);
      expect(JSON.parse(fetched.stdout).verified).to.equal(true);
      const verify = await run(
        [
          "groth16",
          "verify",
          path.join(out, "verification_key.json"),
          path.join(out, "public.json"),
          path.join(out, "proof.json"),
        ],
        {},
        SNARKJS,
      );
      expect(verify.stdout + verify.stderr).to.contain("OK!");
    } finally {
      worker.proc.kill("SIGTERM");
      await worker.exited;
    }
  });

  it("cancels an open job and expires a stale one; the requester gets the fee back", async function () {
    // eddsa_signature is served by no worker here: its jobs stay Open.
    const eddsa = devnet.circuitId("eddsa_signature", "groth16").toString();
    const eddsaInputs = path.join(dir, "eddsa.json");
    writeFileSync(eddsaInputs, JSON.stringify(await exampleInputs("eddsa_signature", "req-cancel")));
    const post = async (expiresIn: string) =>
      JSON.parse(
        (
          await run(
            [
              "post",
              "--circuit",
              eddsa,
              "--inputs",
              eddsaInputs,
              "--fee",
              "1",
              "--bond",
              "1",
              "--window",
              "60",
              "--expires-in",
              expiresIn,
            ],
            env,
          )
        ).stdout,
      ).jobId as string;
    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    const requester = devnet.chain.accounts[2].address;

    const toCancel = await post("3600");
    // With --market alone, the job's events cannot be looked for without the market's deployment block.
    const withoutStart = Object.fromEntries(Object.entries(env).filter(([name]) => name !== "PM_START_BLOCK"));
    const unplaced = await run(["cancel", toCancel], withoutStart);
    expect(unplaced.code, unplaced.stderr).to.equal(2);
    expect(unplaced.stderr).to.match(/needs the market's deployment block: give --start-block N with --market/);
    expect(await run(["cancel", toCancel, "--start-block", "x"], withoutStart)).to.include({ code: 2 });
    const before = await market.withdrawable(requester);
    expect((await run(["cancel", toCancel], env)).code).to.equal(0);
    expect(JSON.parse((await run(["status", toCancel], env)).stdout).status).to.equal("Cancelled");
    expect((await market.withdrawable(requester)) - before).to.equal(10n ** 18n);

    const toExpire = await post("120");
    const early = await run(["expire", toExpire], env);
    expect(early.code).to.equal(1);
    expect(early.stderr).to.match(/refused on chain: \w+\(\d+/);
    await advanceTime(devnet, 121);
    expect((await run(["expire", toExpire], env)).code).to.equal(0);
    expect(JSON.parse((await run(["status", toExpire], env)).stdout).status).to.equal("Expired");
  });

  it("refuses bad inputs, an unknown circuit and a missing key with a message, sending nothing", async function () {
    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    const jobsBefore = await market.jobCount();
    const circuitId = devnet.circuitId("poseidon_preimage", "groth16").toString();
    const malformed = path.join(dir, "malformed.json");
    writeFileSync(malformed, "{ not json");
    const cases: [string[], Record<string, string>, RegExp][] = [
      [
        ["post", "--circuit", circuitId, "--inputs", malformed, "--fee", "1", "--bond", "1"],
        env,
        /--inputs .*malformed\.json: .*JSON/,
      ],
      [
        [
          "post",
          "--circuit",
          circuitId,
          "--inputs",
          await inputsFile("bad", { preimage: ["1"] }),
          "--fee",
          "1",
          "--bond",
          "1",
        ],
        env,
        /inputs do not fit poseidon_preimage: .*preimage/,
      ],
      [
        ["post", "--circuit", "99", "--inputs", await inputsFile("x"), "--fee", "1", "--bond", "1"],
        env,
        /no circuit 99 is registered/,
      ],
      [
        ["post", "--circuit", circuitId, "--inputs", await inputsFile("y"), "--fee", "lots", "--bond", "1"],
        env,
        /--fee: expected a token amount, got lots/,
      ],
      [["status", "1"], { ...env, PM_PRIVATE_KEY: "" }, /PM_PRIVATE_KEY is not a valid/],
      [["status", "1"], { ...env, PM_MARKET_ADDRESS: "0x12" }, /no market/],
    ];
    for (const [args, caseEnv, message] of cases) {
      const result = await run(args, caseEnv);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).to.equal(2);
      expect(result.stderr).to.match(message);
    }
    expect(await market.jobCount()).to.equal(jobsBefore);
  });
});
