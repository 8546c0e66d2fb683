/**
 * The subgraph's logic against the coordinator's, on one real local-chain run: jobs posted (on price ramps and at
 * fixed prices), claimed, proved (real proofs), reassigned by a keeper, abandoned, expired while claimed (slashed)
 * and unclaimed, cancelled; stakes, an unstake request and its completion. The run's logs, replayed through the
 * subgraph's transitions (subgraph/src/transitions.ts, the code its mapping compiles), must give the entities the
 * coordinator's database holds for the same run, as its GraphQL API serves them: every field of every entity the
 * subgraph has (Job.currentPrice, which only the coordinator has, is left out).
 */
import { expect } from "chai";
import { parseEther } from "ethers";
import { loadManifest } from "../../common/circuits/catalog.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import { DEV_UNBONDING_DELAY } from "../../common/deploy/marketParams.ts";
import { currentTerms } from "../../common/market/jobBook.ts";
import { createMarketReader } from "../../common/market/marketReader.ts";
import { proveWithSnarkjs } from "../../common/proofs/prove.ts";
import { openDatabase } from "../../coordinator/db/client.ts";
import { migrate } from "../../coordinator/db/engine.ts";
import { scratchDatabase } from "../../coordinator/db/scratch.ts";
import { createGraphQL } from "../../coordinator/graphql/yoga.ts";
import { createIndexer } from "../../coordinator/indexer/indexer.ts";
import { RECENT_LOCKED_PRICES } from "../../coordinator/graphql/resolvers.ts";
import { RECENT_LOCKED_PRICES as SUBGRAPH_RECENT_LOCKED_PRICES } from "../../subgraph/src/transitions.ts";
import { advanceTime, type Devnet, postJob, startDevnet } from "../helpers/market.ts";
import { replayThroughSubgraph, subgraphEntityFields } from "../helpers/subgraphReplay.ts";

const EVENT_FIELDS =
  "id kind blockNumber txHash timestamp prover attempt minFee maxFee rampStart price bond deadline refund keeper slashed outputs";
const JOB_FIELDS = `id circuit { id } requester status minFee maxFee rampStart rampDuration lockedPrice bond provingWindow expiresAt inputsCommitment inputsHash inputsURI attempt assignee deadline outputs postedAt postedAtBlock provedAt events { ${EVENT_FIELDS} }`;
const PROVER_FIELDS = "id address staked locked unbonding jobsProved jobsMissed jobsAbandoned slashed earned";
const CIRCUIT_FIELDS =
  "id name verifier system nPublicOutputs nPublicInputs batchVerifier registrant manifestHash artifactsURI recentLockedPrices medianLockedPrice";
const STATS_FIELDS =
  "id open claimed proved cancelled expired feesPaid requesterSavings escrowed slashes medianTimeToProof";

describe("subgraph transitions = coordinator database, on one real chain run", function () {
  let devnet: Devnet;

  before(async function () {
    devnet = await startDevnet();
    const [, alice, requester, bob, keeper] = devnet.chain.accounts;
    const circuitId = devnet.circuitId("poseidon_preimage", "groth16");
    const manifest = loadManifest("poseidon_preimage");
    const as = (who: typeof alice) => connectMarket(devnet.deployment.market, who);
    // A job's current terms (a reassignment raises the fee and moves the ramp's start), as the job book folds them.
    const reader = createMarketReader({ provider: devnet.chain.provider, address: devnet.deployment.market });
    const terms = async (jobId: bigint) => (await currentTerms(reader, 0, jobId))!;
    const post = async (seed: string, o: Parameters<typeof postJob>[4] = {}) => {
      const inputs = await exampleInputs("poseidon_preimage", seed);
      return { jobId: await postJob(devnet, requester, circuitId, inputs, o), inputs };
    };
    const prove = async (who: typeof alice, job: { jobId: bigint; inputs: Record<string, unknown> }) => {
      const proof = await proveWithSnarkjs(manifest, "groth16", job.inputs);
      await (await as(who).submitProof(job.jobId, await terms(job.jobId), proof.proof, proof.publicSignals)).wait();
    };
    const { Contract } = await import("ethers");
    for (const who of [alice, bob]) {
      const token = new Contract(devnet.deployment.token, ["function approve(address,uint256)"], who);
      await (await token.approve(devnet.deployment.market, parseEther("1000"))).wait();
      await (await as(who).stake(parseEther("100"))).wait();
    }

    // Ramped: claimed some seconds up the ramp, so the locked price lies strictly between the two fees.
    const proved = await post("tr-proved", { minFee: parseEther("1"), maxFee: parseEther("3"), rampDuration: 100n });
    await advanceTime(devnet, 30);
    await (await as(alice).claim(proved.jobId, await terms(proved.jobId))).wait();
    await advanceTime(devnet, 7);
    await prove(alice, proved);

    const stalled = await post("tr-stalled", {
      provingWindow: 60n,
      minFee: parseEther("1"),
      maxFee: parseEther("4"),
      rampDuration: 600n,
    });
    await (await as(alice).claim(stalled.jobId, await terms(stalled.jobId))).wait();
    await advanceTime(devnet, 61);
    await (await as(keeper).reassign(stalled.jobId, await terms(stalled.jobId))).wait();
    await (await as(bob).claim(stalled.jobId, await terms(stalled.jobId))).wait();
    await advanceTime(devnet, 20);
    await prove(bob, stalled);

    const abandoned = await post("tr-abandoned");
    await (await as(bob).claim(abandoned.jobId, await terms(abandoned.jobId))).wait();
    await (await as(bob).abandon(abandoned.jobId, await terms(abandoned.jobId))).wait();

    const heldAtExpiry = await post("tr-held", { provingWindow: 60n, expiresIn: 120 });
    const unclaimed = await post("tr-unclaimed", { provingWindow: 60n, expiresIn: 120 });
    await (await as(alice).claim(heldAtExpiry.jobId, await terms(heldAtExpiry.jobId))).wait();
    await advanceTime(devnet, 400);
    await (await as(keeper).expire(heldAtExpiry.jobId, await terms(heldAtExpiry.jobId))).wait();
    await (await as(keeper).expire(unclaimed.jobId, await terms(unclaimed.jobId))).wait();

    const cancelled = await post("tr-cancelled");
    await (await as(requester).cancel(cancelled.jobId, await terms(cancelled.jobId))).wait();
    await post("tr-open", { minFee: parseEther("1"), maxFee: parseEther("2"), rampDuration: 3_000n });

    await (await as(alice).requestUnstake(parseEther("10"))).wait();
    await advanceTime(devnet, Number(DEV_UNBONDING_DELAY) + 1);
    await (await as(alice).completeUnstake()).wait();
  });

  after(async function () {
    await devnet?.chain.stop();
  });

  it("every Job (with its history), Prover, Circuit and MarketStats is the same", async function () {
    // The fields compared are all the subgraph has.
    const names = (selection: string) =>
      selection
        .replace(/\{[^{}]*\}/g, "")
        .split(/\s+/)
        .filter(Boolean);
    const entityFields = subgraphEntityFields();
    expect(names(JOB_FIELDS)).to.have.members(entityFields.get("Job")!);
    // (A history entry's `job` is the job it is listed under.)
    expect([...names(EVENT_FIELDS), "job"]).to.have.members(entityFields.get("JobEvent")!);
    expect(names(PROVER_FIELDS)).to.have.members(entityFields.get("Prover")!);
    expect(names(CIRCUIT_FIELDS)).to.have.members(entityFields.get("Circuit")!);
    expect(names(STATS_FIELDS)).to.have.members(entityFields.get("MarketStats")!);

    const provider = devnet.chain.provider;
    const market = connectMarket(devnet.deployment.market, provider);
    const logs = await provider.getLogs({ address: devnet.deployment.market, fromBlock: 0 });
    const kinds = new Set(logs.map((l) => market.interface.parseLog(l)?.name));
    for (const kind of [
      "JobPosted",
      "JobClaimed",
      "JobProved",
      "JobReassigned",
      "JobAbandoned",
      "JobExpired",
      "JobCancelled",
      "Staked",
      "UnstakeRequested",
      "Unstaked",
    ])
      expect(kinds.has(kind), `the run has a ${kind} event`).to.equal(true);

    const timestamps = new Map<number, number>();
    const subgraph = await replayThroughSubgraph(market.interface, logs, async (n) => {
      if (!timestamps.has(n)) timestamps.set(n, (await provider.getBlock(n))!.timestamp);
      return timestamps.get(n)!;
    });

    const scratch = await scratchDatabase("sqlite");
    await migrate(scratch.url);
    const { db, close } = await openDatabase(scratch.url);
    try {
      await createIndexer({
        db,
        provider,
        marketAddress: devnet.deployment.market,
        startBlock: 0,
        confirmations: 0,
        rangeSize: 50,
      }).catchUp();
      const response = await createGraphQL(db, { maxCost: 1e9 }).fetch("http://localhost/graphql", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: `{ jobs(first: 100, orderBy: postedAt) { ${JOB_FIELDS} }
                    provers(first: 100) { ${PROVER_FIELDS} }
                    circuits { ${CIRCUIT_FIELDS} }
                    marketStats(id: "market") { ${STATS_FIELDS} } }`,
        }),
      });
      const { data, errors } = (await response.json()) as { data: any; errors?: unknown };
      expect(errors).to.equal(undefined);
      const byId = (xs: { id: string }[]) => [...xs].sort((a, b) => a.id.localeCompare(b.id));

      expect(data.jobs).to.have.length(7);
      expect(byId(data.jobs)).to.deep.equal(byId(subgraph.jobs as { id: string }[]));
      expect(byId(data.provers)).to.deep.equal(byId(subgraph.provers as { id: string }[]));
      expect(byId(data.circuits)).to.deep.equal(byId(subgraph.circuits as { id: string }[]));
      expect(data.marketStats).to.deep.equal(subgraph.marketStats);
      // The run's numbers, as a reader would check them.
      expect(data.marketStats).to.include({ proved: 2, open: 2, cancelled: 1, expired: 2, slashes: 3 });
      const jobs = data.jobs as { status: string; maxFee: string; lockedPrice: string | null }[];
      const proved = jobs.filter((j) => j.status === "Proved");
      const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n).toString();
      expect(data.marketStats.feesPaid).to.equal(sum(proved.map((j) => BigInt(j.lockedPrice!))));
      expect(data.marketStats.requesterSavings).to.equal(
        sum(proved.map((j) => BigInt(j.maxFee) - BigInt(j.lockedPrice!))),
      );
      expect(BigInt(data.marketStats.requesterSavings), "the ramped proof was paid below its escrow").to.be.greaterThan(
        0n,
      );
      expect(data.marketStats.escrowed).to.equal(
        sum(jobs.filter((j) => j.status === "Open" || j.status === "Claimed").map((j) => BigInt(j.maxFee))),
      );
      // Five claims, all on one circuit: newest first, and the middle one of the five.
      const circuit = data.circuits.find((c: { recentLockedPrices: string[] }) => c.recentLockedPrices.length > 0);
      expect(circuit.recentLockedPrices).to.have.length(5);
      const sorted = circuit.recentLockedPrices.map(BigInt).sort((a: bigint, b: bigint) => (a < b ? -1 : 1));
      expect(circuit.medianLockedPrice).to.equal(sorted[2].toString());
      const alice = data.provers.find((p: { id: string }) => p.id === devnet.chain.accounts[1].address.toLowerCase());
      expect(alice).to.include({ jobsProved: 1, jobsMissed: 2, unbonding: "0", locked: "0" });
    } finally {
      await close();
      await scratch.drop();
    }
  });

  it("amounts: the subgraph's digit-by-digit arithmetic agrees with bigint", async function () {
    const { addAmounts, lessAmount, subAmounts } = await import("../../subgraph/src/transitions.ts");
    const values = ["0", "1", "9", "10", "99", "1000000000000000000", "79228162514264337593543950335"];
    for (const a of values)
      for (const b of values) {
        expect(addAmounts(a, b)).to.equal((BigInt(a) + BigInt(b)).toString());
        if (BigInt(a) >= BigInt(b)) expect(subAmounts(a, b)).to.equal((BigInt(a) - BigInt(b)).toString());
        expect(lessAmount(a, b), `${a} < ${b}`).to.equal(BigInt(a) < BigInt(b));
      }
  });

  it("a circuit keeps the coordinator's number of recent prices, newest first, with their upper median", async function () {
    const { CircuitPrices, circuitClaimed } = await import("../../subgraph/src/transitions.ts");
    expect(SUBGRAPH_RECENT_LOCKED_PRICES).to.equal(RECENT_LOCKED_PRICES);
    const circuit = new CircuitPrices();
    // 25 claims at 100, 99, ..., 76: the newest 20 are 76, 77, ..., 95, whose upper median is the 11th smallest, 86.
    for (let i = 0; i < 25; i++) circuitClaimed(circuit, String(100 - i));
    expect(circuit.recentLockedPrices).to.deep.equal(Array.from({ length: 20 }, (_, i) => String(76 + i)));
    expect(circuit.medianLockedPrice).to.equal("86");
    const two = new CircuitPrices();
    circuitClaimed(two, "7");
    circuitClaimed(two, "10");
    expect(two.recentLockedPrices).to.deep.equal(["10", "7"]);
    expect(two.medianLockedPrice, "the upper of two").to.equal("10");
  });
});
