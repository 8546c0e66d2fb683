/**
 * The requester CLI prices jobs, on a real local chain: `post` with the default ramp, a fixed fee and explicit ramps
 * (refusing a minimum above the maximum, a maximum of 0 and a ramp that outlives the job, before anything is sent);
 * `status` shows the price now, the locked price and deadline, the price paid and the refund; `quote` has no price
 * to go by on a fresh market, then suggests a ramp from the prices that claims made at chosen seconds locked, read
 * from the chain or from a real coordinator that indexes it.
 */
import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseEther } from "ethers";
import { loadManifest } from "../../common/circuits/catalog.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket, connectToken } from "../../common/contracts/artifacts.ts";
import { currentTerms, type JobTerms } from "../../common/market/jobBook.ts";
import { createMarketReader, jobTopics } from "../../common/market/marketReader.ts";
import { deadlineFrom, priceAt } from "../../common/market/price.ts";
import { proveWithSnarkjs } from "../../common/proofs/prove.ts";
import { type Coordinator, createCoordinator } from "../../coordinator/coordinator.ts";
import { scratchDatabase, type ScratchDatabase } from "../../coordinator/db/scratch.ts";
import { freePort } from "../../dev/localNode.ts";
import { capturingLogger } from "../helpers/capturingLogger.ts";
import { coordinatorConfigFor, type Devnet, startDevnet } from "../helpers/market.ts";
import "../helpers/releaseSnarkjs.ts";
import { requesterEnv, runRequester } from "./helpers.ts";

const run = runRequester;
const json = (stdout: string) => JSON.parse(stdout) as Record<string, any>;

describe("requester CLI: pricing", function () {
  let devnet: Devnet;
  let env: Record<string, string>;
  let scratch: ScratchDatabase;
  let coordinator: Coordinator;
  let preimage: string;
  let eddsa: string;
  const dir = mkdtempSync(path.join(os.tmpdir(), "pm-requester-pricing-"));
  const inputsFile = async (circuit: "poseidon_preimage" | "eddsa_signature", seed: string) => {
    const file = path.join(dir, `${circuit}-${seed}.json`);
    writeFileSync(file, JSON.stringify(await exampleInputs(circuit, seed)));
    return file;
  };
  const post = async (circuit: string, seed: string, pricing: string[], extra: string[] = []) => {
    const file = await inputsFile(circuit === eddsa ? "eddsa_signature" : "poseidon_preimage", seed);
    return run(["post", "--circuit", circuit, "--inputs", file, ...pricing, "--bond", "2", ...extra], env);
  };
  const posted = async (circuit: string, seed: string, pricing: string[], extra: string[] = []) => {
    const result = await post(circuit, seed, pricing, extra);
    expect(result.code, result.stderr).to.equal(0);
    return json(result.stdout);
  };
  const terms = async (jobId: string | bigint): Promise<JobTerms> => {
    const reader = createMarketReader({ provider: devnet.chain.provider, address: devnet.deployment.market });
    return (await currentTerms(reader, 0, BigInt(jobId)))!;
  };
  const status = async (jobId: string) => {
    const result = await run(["status", jobId], env);
    expect(result.code, result.stderr).to.equal(0);
    return json(result.stdout);
  };
  const latest = async () => BigInt((await devnet.chain.provider.getBlock("latest"))!.timestamp);
  /** The prover claims the job in a block of exactly that second: the price it locks is the ramp's then. */
  const claimAt = async (jobId: string, second: bigint) => {
    await devnet.chain.provider.send("evm_setNextBlockTimestamp", [Number(second)]);
    const market = connectMarket(devnet.deployment.market, devnet.chain.accounts[1]);
    await (await market.claim(BigInt(jobId), await terms(jobId))).wait();
  };

  /** The environment of a quote from the coordinator, once it has indexed the chain's head. */
  const fromCoordinator = async () => {
    const head = await devnet.chain.provider.getBlockNumber();
    const indexed = async () =>
      ((await (await fetch(`${coordinator.url}/health`)).json()) as { indexedBlock: number | null }).indexedBlock;
    for (let tries = 0; ((await indexed()) ?? -1) < head; tries++) {
      expect(tries, "the coordinator indexes the head").to.be.lessThan(200);
      await new Promise((r) => setTimeout(r, 100));
    }
    return { ...env, PM_COORDINATOR_URL: coordinator.url };
  };

  before(async function () {
    devnet = await startDevnet();
    env = requesterEnv(devnet);
    scratch = await scratchDatabase("sqlite");
    coordinator = await createCoordinator(
      coordinatorConfigFor(devnet, scratch.url, { pollMs: 500, logger: capturingLogger().logger }),
    );
    await coordinator.start();
    preimage = devnet.circuitId("poseidon_preimage", "groth16").toString();
    eddsa = devnet.circuitId("eddsa_signature", "groth16").toString();
    // The prover stakes enough for every claim below.
    const prover = devnet.chain.accounts[1];
    await (
      await connectToken(devnet.deployment.token, prover).approve(devnet.deployment.market, parseEther("100"))
    ).wait();
    await (await connectMarket(devnet.deployment.market, prover).stake(parseEther("100"))).wait();
  });

  after(async function () {
    await coordinator?.stop();
    await devnet?.chain.stop();
    await scratch?.drop();
  });

  it("quote has no price to go by on a fresh market: it says so, how to choose by hand, and exits 1", async function () {
    const human = await run(["quote", "--circuit", preimage], env);
    expect(human.code, human.stderr).to.equal(1);
    expect(human.stdout).to.match(
      new RegExp(
        `^circuit ${preimage}, blocks 0\\.\\.\\d+: no claim of its 0 job\\(s\\) posted there locked a price\\.\\n`,
      ),
    );
    expect(human.stdout).to.contain("No price to go by: choose by hand: --max-fee, the most you would pay");
    expect(human.stdout).to.contain("or look further back with --blocks");
    const asJson = await run(["quote", "--circuit", preimage, "--json"], env);
    expect(asJson.code).to.equal(1);
    expect(json(asJson.stdout)).to.include({ circuitId: preimage, source: "chain", fromBlock: 0, jobs: 0, prices: 0 });
    expect(json(asJson.stdout).suggestion).to.equal(null);

    // The coordinator, when one is given, has no claim either.
    const indexed = await run(["quote", "--circuit", preimage, "--json"], await fromCoordinator());
    expect(indexed.code, indexed.stderr).to.equal(1);
    expect(json(indexed.stdout)).to.deep.equal({
      circuitId: preimage,
      source: "coordinator",
      coordinator: coordinator.url,
      prices: 0,
      suggestion: null,
      why: "no claim of its jobs has locked a price",
      advice:
        "choose by hand: --max-fee, the most you would pay for a proof (it is escrowed, and what the prover is not " +
        "paid comes back); --min-fee, a tenth of it by default; --ramp, 600 s by default (a 12 s block then raises " +
        "the price by at most 2% of the maximum)",
    });

    const unknown = await run(["quote", "--circuit", "99"], env);
    expect([unknown.code, unknown.stderr]).to.deep.equal([
      2,
      `no circuit 99 is registered on market ${devnet.deployment.market}\n`,
    ]);
    const badBlocks = await run(["quote", "--circuit", preimage, "--blocks", "0"], env);
    expect([badBlocks.code, badBlocks.stderr]).to.deep.equal([
      2,
      "--blocks: expected a number of blocks (1 or more), got 0\n",
    ]);
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const unreachable = await run(["quote", "--circuit", preimage, "--coordinator", nowhere], env);
    expect([unreachable.code, unreachable.stderr]).to.deep.equal([
      2,
      `cannot reach the coordinator at ${nowhere}: is it running? set --coordinator or PM_COORDINATOR_URL (or quote ` +
        "from the chain with --source chain)\n",
    ]);
    const noCoordinator = await run(["quote", "--circuit", preimage, "--source", "coordinator"], env);
    expect([noCoordinator.code, noCoordinator.stderr]).to.deep.equal([
      2,
      "quoting from a coordinator needs one: give --coordinator URL or PM_COORDINATOR_URL\n",
    ]);
    const badSource = await run(["quote", "--circuit", preimage, "--source", "moon"], env);
    expect(badSource.code).to.equal(2);
    expect(badSource.stderr).to.match(/option '--source <where>' argument 'moon' is invalid/);
  });

  it("posts with the default ramp: a tenth of the maximum, rising over 600 s from posting; escrows the maximum", async function () {
    const requester = devnet.chain.accounts[2].address;
    const token = connectToken(devnet.deployment.token, devnet.chain.provider);
    const before = await token.balanceOf(requester);
    const job = await posted(preimage, "default", ["--max-fee", "3"]);
    expect(await token.balanceOf(requester)).to.equal(before - parseEther("3"));
    const reader = createMarketReader({ provider: devnet.chain.provider, address: devnet.deployment.market });
    const [event] = await reader.scan(0, jobTopics(BigInt(job.jobId), ["JobPosted"]), undefined, true);
    // "At posting" is the posting block's second, which the market writes for a rampStart of 0.
    expect(job).to.deep.include({
      minFee: "0.3",
      maxFee: "3.0",
      rampStart: event.timestamp,
      rampDuration: 600,
      escrow: "3.0",
    });
    const onChain = await terms(job.jobId);
    expect([onChain.minFee, onChain.maxFee, onChain.rampStart, onChain.rampDuration]).to.deep.equal([
      parseEther("0.3"),
      parseEther("3"),
      BigInt(event.timestamp),
      600n,
    ]);
    expect(Number(onChain.expiresAt)).to.equal(job.expiresAt);

    // Open: the price now is the ramp's at the head's second.
    const shown = await status(job.jobId);
    expect(shown).to.deep.include({ status: "Open", minFee: "0.3", maxFee: "3.0", rampDuration: 600 });
    expect(parseEther(shown.priceNow)).to.equal(priceAt(onChain, await latest()));
  });

  it("posts a fixed fee (--fee) and an explicit ramp with a delay", async function () {
    const fixed = await posted(preimage, "fixed", ["--fee", "2.5"]);
    expect(fixed).to.deep.include({ minFee: "2.5", maxFee: "2.5", rampDuration: 0, escrow: "2.5" });
    // min = max is a fixed price too: posted without its ramp, which may outlast the job (the market would refuse a
    // ramp that does: RampPastExpiry) and would change nothing.
    const same = await posted(
      preimage,
      "same",
      ["--min-fee", "2", "--max-fee", "2", "--ramp", "600"],
      ["--expires-in", "400"],
    );
    expect(same).to.deep.include({ minFee: "2.0", maxFee: "2.0", escrow: "2.0", rampDuration: 0 });

    const before = await latest();
    const delayed = await posted(preimage, "delayed", [
      "--max-fee",
      "4",
      "--min-fee",
      "1",
      "--ramp",
      "300",
      "--ramp-delay",
      "120",
    ]);
    expect(delayed).to.deep.include({ minFee: "1.0", maxFee: "4.0", rampDuration: 300, escrow: "4.0" });
    // 120 s after the head's second when it was posted.
    expect(BigInt(delayed.rampStart) - before).to.be.within(120n, 125n);
    const shown = await status(delayed.jobId);
    expect(shown).to.deep.include({ status: "Open", priceNow: "1.0", rampStart: delayed.rampStart });
  });

  it("warns when the price rises more than 2% of the maximum per 12 s block, and posts", async function () {
    const steep = await post(preimage, "steep", ["--max-fee", "3", "--min-fee", "0", "--ramp", "60"]);
    expect(steep.code, steep.stderr).to.equal(0);
    expect(steep.stderr).to.equal(
      "warning: the price rises by 0.6 every 12 s block, more than 2% of --max-fee: a prover claims in the first " +
        "block at or above its price and may be paid up to that much above it; a ramp of 600 s or more rises by less\n",
    );
  });

  it("refuses a bad price with what to do, sending nothing", async function () {
    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    const jobsBefore = await market.jobCount();
    const cases: [string[], string[], string | RegExp][] = [
      [
        ["--max-fee", "3", "--min-fee", "5"],
        [],
        "the minimum fee 5.0 PMT (--min-fee) is above the maximum 3.0 PMT (--max-fee): the price rises from the " +
          "minimum to the maximum, so lower --min-fee or raise --max-fee (or give --fee alone for a fixed price)\n",
      ],
      [["--max-fee", "0"], [], /^the maximum fee \(--max-fee, or --fee\) must be above 0/],
      [["--fee", "0"], [], /^the maximum fee \(--max-fee, or --fee\) must be above 0/],
      [
        ["--max-fee", "3"],
        ["--expires-in", "600"],
        "the price would reach its maximum 600 s after posting, but a claim gets its whole 300 s proving window " +
          "only until 300 s after posting (the job expires after 600 s): the top of the ramp would be offered only " +
          "with a shorter window, or not at all; shorten --ramp to at most 300 s, or lengthen --expires-in to at " +
          "least 900 s\n",
      ],
      [
        ["--fee", "3", "--max-fee", "4"],
        [],
        "error: option '--fee <amount>' cannot be used with option '--max-fee <amount>'\n",
      ],
      [[], [], /^no price: give --max-fee AMOUNT .* or --fee AMOUNT \(a fixed price\)/],
      [["--min-fee", "1"], [], "--min-fee needs --max-fee: the price rises from the minimum to the maximum you give\n"],
      [["--max-fee", "3", "--ramp", "ten"], [], "--ramp: expected whole seconds, got ten\n"],
      [["--max-fee", "3", "--min-fee", "1e3"], [], /^--min-fee: expected a token amount, got 1e3/],
    ];
    for (const [pricing, extra, message] of cases) {
      const result = await post(preimage, "refused", pricing, extra);
      expect(result.code, `${pricing.join(" ")}: ${result.stderr}`).to.equal(2);
      if (typeof message === "string") expect(result.stderr).to.equal(message);
      else expect(result.stderr).to.match(message);
    }
    expect(await market.jobCount()).to.equal(jobsBefore);
  });

  it("status shows the locked price and deadline of a claim, the price paid and the refund of a proof", async function () {
    const job = await posted(preimage, "proved", ["--max-fee", "3", "--min-fee", "1", "--ramp", "400"]);
    const jobTerms = await terms(job.jobId);
    // 200 s into the ramp: 1 + 2 × 200/400 = 2.
    const claimedAt = jobTerms.rampStart + 200n;
    await claimAt(job.jobId, claimedAt);
    expect(await status(job.jobId)).to.deep.include({
      status: "Claimed",
      attempt: 0,
      assignee: devnet.chain.accounts[1].address,
      claimedAt: Number(claimedAt),
      deadline: Number(deadlineFrom(jobTerms, claimedAt)),
      lockedPrice: "2.0",
    });
    expect(deadlineFrom(jobTerms, claimedAt)).to.equal(claimedAt + 300n);

    // The prover proves it (snarkjs, as a worker would): paid the locked price, the rest comes back.
    const proved = await proveWithSnarkjs(
      loadManifest("poseidon_preimage"),
      "groth16",
      await exampleInputs("poseidon_preimage", "proved"),
    );
    const market = connectMarket(devnet.deployment.market, devnet.chain.accounts[1]);
    const requester = devnet.chain.accounts[2].address;
    const owed = await market.withdrawable(requester);
    await (await market.submitProof(BigInt(job.jobId), jobTerms, proved.proof, proved.publicSignals)).wait();
    const shown = await status(job.jobId);
    expect(shown).to.deep.include({
      status: "Proved",
      attempt: 0,
      assignee: devnet.chain.accounts[1].address,
      paid: "2.0",
      refund: "1.0",
      maxFee: "3.0",
    });
    expect(shown).to.not.have.any.keys("priceNow", "lockedPrice", "deadline");
    expect((await market.withdrawable(requester)) - owed).to.equal(parseEther("1"));

    // A cancelled job's refund is its whole escrow.
    const cancelled = await posted(eddsa, "cancelled", ["--max-fee", "2"]);
    expect((await run(["cancel", cancelled.jobId], env)).code).to.equal(0);
    expect(await status(cancelled.jobId)).to.deep.include({ status: "Cancelled", refund: "2.0" });

    // Without the market's deployment block its events cannot be found: the state alone, and what to give.
    const withoutStart = Object.fromEntries(Object.entries(env).filter(([name]) => name !== "PM_START_BLOCK"));
    const bare = await run(["status", job.jobId], withoutStart);
    expect(bare.code, bare.stderr).to.equal(0);
    // A proof clears the job's state slot, so the prover is among what the events would show.
    expect(json(bare.stdout)).to.deep.equal({ status: "Proved" });
    expect(bare.stderr).to.match(
      /^note: the job's price and deadline \(and a proved job's prover\) come from its events: give --start-block N/,
    );
  });

  it("quote suggests a ramp from the prices claims of the circuit locked, and the suggestion posts", async function () {
    // Three jobs of the circuit, each claimed at a chosen second of one ramp (1 → 5 over 400 s): 2, 3 and 4.
    for (const [seed, elapsed] of [
      ["q1", 100n],
      ["q2", 200n],
      ["q3", 300n],
    ] as const) {
      const job = await posted(preimage, seed, [
        "--max-fee",
        "5",
        "--min-fee",
        "1",
        "--ramp",
        "400",
        "--ramp-delay",
        "0",
      ]);
      const { rampStart } = await terms(job.jobId);
      await claimAt(job.jobId, rampStart + elapsed);
    }
    // Another circuit's claim at a far higher price is not this circuit's.
    const other = await posted(eddsa, "other", ["--fee", "9"]);
    await claimAt(other.jobId, (await latest()) + 10n);

    const quoted = await run(["quote", "--circuit", preimage, "--json"], env);
    expect(quoted.code, quoted.stderr).to.equal(0);
    const quote = json(quoted.stdout);
    // The claim made by the status test (at 2) is one of the circuit's too.
    expect(quote).to.deep.include({
      circuitId: preimage,
      source: "chain",
      fromBlock: 0,
      prices: 4,
      lowest: "2.0",
      median: "3.0",
      highest: "4.0",
      post: "--min-fee 1.8 --max-fee 5.0 --ramp 420",
    });
    // 600 × (5 − 1.8) / 5 = 384 s, up to the whole minute; the median, 3 (the upper middle of 2, 2, 3, 4), is
    // reached after ⌈1.2 × 420 / 3.2⌉ s.
    expect(quote.suggestion).to.deep.equal({ minFee: "1.8", maxFee: "5.0", rampDuration: 420, medianAfter: 158 });
    expect(quote.why.minFee).to.match(/^10% below the lowest price a claim locked \(2\.0 PMT\)/);
    expect(quote.jobs).to.be.at.least(4);

    const human = await run(["quote", "--circuit", preimage], env);
    expect(human.code, human.stderr).to.equal(0);
    expect(human.stdout).to.match(
      /^circuit \d+, blocks 0\.\.\d+: 4 locked price\(s\) from claims of \d+ job\(s\): lowest 2\.0 PMT, median 3\.0 PMT, highest 4\.0 PMT\n/,
    );
    expect(human.stdout).to.contain("suggested: post --min-fee 1.8 --max-fee 5.0 --ramp 420\n");
    expect(human.stdout).to.match(/ {2}--ramp 420: the shortest whole minute .* 158 s after posting\n$/);

    // The lookback is bounded: the last block alone holds no job of the circuit.
    const recent = await run(["quote", "--circuit", preimage, "--blocks", "1", "--json"], env);
    expect(recent.code).to.equal(1);
    const head = await devnet.chain.provider.getBlockNumber();
    expect(json(recent.stdout)).to.include({ fromBlock: head, toBlock: head, jobs: 0, prices: 0 });

    // The coordinator has the same claims, and suggests the same; --source chain reads the chain all the same.
    const withCoordinator = await fromCoordinator();
    const indexed = await run(["quote", "--circuit", preimage, "--json"], withCoordinator);
    expect(indexed.code, indexed.stderr).to.equal(0);
    expect(json(indexed.stdout)).to.deep.include({ source: "coordinator", coordinator: coordinator.url, prices: 4 });
    expect(json(indexed.stdout).suggestion).to.deep.equal(quote.suggestion);
    const indexedHuman = await run(["quote", "--circuit", preimage], withCoordinator);
    expect(indexedHuman.stdout).to.match(
      /^circuit \d+, from the coordinator at http:\/\/127\.0\.0\.1:\d+: 4 locked price\(s\) of the newest claims: lowest 2\.0 PMT, median 3\.0 PMT, highest 4\.0 PMT\nsuggested: post --min-fee 1\.8 --max-fee 5\.0 --ramp 420\n/,
    );
    const forced = await run(["quote", "--circuit", preimage, "--json", "--source", "chain"], withCoordinator);
    expect(json(forced.stdout)).to.deep.include({ source: "chain", prices: 4, post: quote.post });

    // What quote suggests, post takes as it is.
    const suggested = await posted(preimage, "suggested", quote.post.split(" "));
    expect(suggested).to.deep.include({ minFee: "1.8", maxFee: "5.0", rampDuration: 420 });
  });
});
