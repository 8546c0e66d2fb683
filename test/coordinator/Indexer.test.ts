/**
 * The coordinator's indexer against a real local chain (hardhat node) and a real database (SQLite file and
 * PostgreSQL): events of real jobs (posted, claimed, proved with a real proof, reassigned, expired) and stakes
 * become jobs, history and prover accounts that match the chain; indexing again writes nothing twice; jobs posted
 * on price ramps and claimed at known seconds show the prices they locked, were paid and refunded, their circuit
 * the recent prices and their median, the market the requesters' savings, and an open job the price at the head
 * the indexer has seen; a reorg (snapshot/revert on the node) is rewound to the fork point.
 */
import { expect } from "chai";
import { parseEther, type Wallet } from "ethers";
import { loadManifest } from "../../common/circuits/catalog.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket, connectToken } from "../../common/contracts/artifacts.ts";
import { currentTerms, termsOf } from "../../common/market/jobBook.ts";
import { createMarketReader } from "../../common/market/marketReader.ts";
import { JOB_STATUS, jobStatusName } from "../../common/market/jobStatus.ts";
import { proveWithSnarkjs } from "../../common/proofs/prove.ts";
import { type Db, openDatabase } from "../../coordinator/db/client.ts";
import { migrate } from "../../coordinator/db/engine.ts";
import { PROVIDERS } from "../../coordinator/db/schema.ts";
import { scratchDatabase } from "../../coordinator/db/scratch.ts";
import { createGraphQL } from "../../coordinator/graphql/yoga.ts";
import { createIndexer } from "../../coordinator/indexer/indexer.ts";
import { advanceTime, type Devnet, postJob, startDevnet } from "../helpers/market.ts";
import "../helpers/releaseSnarkjs.ts";

/** The stalled job (id 2) is posted with postJob's default terms: a fixed price. */
const FEE_OF_JOB_2 = parseEther("3");
const BOND_OF_JOB_2 = parseEther("2");
const ETH = parseEther("1");

describe("coordinator indexer, against a real local chain", function () {
  let devnet: Devnet;
  let prover: Wallet;
  let keeper: Wallet;
  let requester: Wallet;
  let circuitId: bigint;
  /** The ramped jobs, and the second their ramps are timed from. */
  const ramped = { proved: 0n, reopened: 0n, open: 0n, t0: 0 };

  before(async function () {
    devnet = await startDevnet();
    [, prover, requester, keeper] = devnet.chain.accounts;
    circuitId = devnet.circuitId("poseidon_preimage", "groth16");
    await (
      await connectToken(devnet.deployment.token, prover).approve(devnet.deployment.market, parseEther("1000"))
    ).wait();
    await (await connectMarket(devnet.deployment.market, prover).stake(parseEther("100"))).wait();

    // Real activity: a proved job, a reassigned one, an expired one, and an unstake request.
    const market = connectMarket(devnet.deployment.market, prover);
    const inputs = await exampleInputs("poseidon_preimage", "idx-proved");
    const proved = await postJob(devnet, requester, circuitId, inputs);
    const terms = async (jobId: bigint) =>
      termsOf((await market.queryFilter(market.filters.JobPosted(jobId), 0))[0].args);
    await (await market.claim(proved, await terms(proved))).wait();
    const proof = await proveWithSnarkjs(loadManifest("poseidon_preimage"), "groth16", inputs);
    await (await market.submitProof(proved, await terms(proved), proof.proof, proof.publicSignals)).wait();

    // (postJob's default fee and bond: FEE_OF_JOB_2, BOND_OF_JOB_2.)
    const stalled = await postJob(
      devnet,
      requester,
      circuitId,
      await exampleInputs("poseidon_preimage", "idx-stalled"),
      { provingWindow: 60n },
    );
    await (await market.claim(stalled, await terms(stalled))).wait();
    await advanceTime(devnet, 61);
    await (await connectMarket(devnet.deployment.market, keeper).reassign(stalled, await terms(stalled))).wait();

    const expiring = await postJob(
      devnet,
      requester,
      circuitId,
      await exampleInputs("poseidon_preimage", "idx-expiring"),
      { provingWindow: 60n, expiresIn: 120 },
    );
    await advanceTime(devnet, 121);
    await (await connectMarket(devnet.deployment.market, keeper).expire(expiring, await terms(expiring))).wait();
    await (await market.requestUnstake(parseEther("10"))).wait();

    // Jobs on price ramps, claimed by a second prover at seconds set on the node, so each price is known exactly.
    const bob = devnet.chain.accounts[4];
    const asBob = connectMarket(devnet.deployment.market, bob);
    await (
      await connectToken(devnet.deployment.token, bob).approve(devnet.deployment.market, parseEther("1000"))
    ).wait();
    await (await asBob.stake(parseEther("100"))).wait();
    const reader = createMarketReader({ provider: devnet.chain.provider, address: devnet.deployment.market });
    const current = async (jobId: bigint) => (await currentTerms(reader, 0, jobId))!;
    const at = (second: number) => devnet.chain.provider.send("evm_setNextBlockTimestamp", [second]);
    const t0 = (await devnet.chain.provider.getBlock("latest"))!.timestamp + 1_000;
    ramped.t0 = t0;
    // From 1 at t0 to 2 at t0 + 100, claimed at t0 + 25 (1.25) and proved: 0.75 back to the requester.
    const provedInputs = await exampleInputs("poseidon_preimage", "idx-ramped");
    ramped.proved = await postJob(devnet, requester, circuitId, provedInputs, {
      minFee: ETH,
      maxFee: 2n * ETH,
      rampStart: BigInt(t0),
      rampDuration: 100n,
    });
    await at(t0 + 25);
    await (await asBob.claim(ramped.proved, await current(ramped.proved))).wait();
    const rampedProof = await proveWithSnarkjs(loadManifest("poseidon_preimage"), "groth16", provedInputs);
    await (
      await asBob.submitProof(ramped.proved, await current(ramped.proved), rampedProof.proof, rampedProof.publicSignals)
    ).wait();
    // From 1 at t0 + 100 to 3 at t0 + 300: claimed at t0 + 150 (1.5), let lapse, reassigned at t0 + 211 (both ends
    // raised by the reward share, the ramp paused the 61 s the claim held it: it now starts at t0 + 161), claimed
    // again past the ramp's end (the raised maxFee).
    ramped.reopened = await postJob(
      devnet,
      requester,
      circuitId,
      await exampleInputs("poseidon_preimage", "idx-reopened"),
      { minFee: ETH, maxFee: 3n * ETH, rampStart: BigInt(t0 + 100), rampDuration: 200n, provingWindow: 60n },
    );
    await at(t0 + 150);
    await (await asBob.claim(ramped.reopened, await current(ramped.reopened))).wait();
    await at(t0 + 211);
    await (
      await connectMarket(devnet.deployment.market, keeper).reassign(ramped.reopened, await current(ramped.reopened))
    ).wait();
    await at(t0 + 400);
    await (await asBob.claim(ramped.reopened, await current(ramped.reopened))).wait();
    // Open, from 1 at t0 + 400 to 2 at t0 + 1400; the head is then at t0 + 700 (1.3).
    ramped.open = await postJob(
      devnet,
      requester,
      circuitId,
      await exampleInputs("poseidon_preimage", "idx-open-ramp"),
      { minFee: ETH, maxFee: 2n * ETH, rampStart: BigInt(t0 + 400), rampDuration: 1_000n },
    );
    await at(t0 + 700);
    await devnet.chain.provider.send("evm_mine", []);
  });

  after(async function () {
    await devnet?.chain.stop();
  });

  /** An indexer of the devnet's market into `db`, from its first block, at confirmation depth 0. */
  const indexerOf = (db: Db, rangeSize: number, onJobsChanged?: (jobIds: string[]) => void) =>
    createIndexer({
      db,
      provider: devnet.chain.provider,
      marketAddress: devnet.deployment.market,
      startBlock: 0,
      confirmations: 0,
      rangeSize,
      onJobsChanged,
    });

  /** A query's data, answered without errors by the GraphQL API over `db`. */
  async function graphqlOn(db: Db, query: string) {
    const response = await createGraphQL(db).fetch("http://localhost/graphql", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query }),
    });
    const { data, errors } = (await response.json()) as { data: any; errors?: unknown };
    expect(errors).to.equal(undefined);
    return data;
  }

  async function expectMatchesChain(db: Db) {
    const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
    const count = Number(await market.jobCount());
    expect(await db.job.count()).to.equal(count);
    for (let id = 1; id <= count; id++) {
      const chain = await market.jobState(id);
      const row = await db.job.findUniqueOrThrow({ where: { id: String(id) }, include: { events: true } });
      expect(row.status, `job ${id}`).to.equal(jobStatusName(chain.status));
      expect(row.attempt).to.equal(Number(chain.attempt));
    }
    const acct = await market.account(prover.address);
    const row = await db.prover.findUniqueOrThrow({ where: { address: prover.address.toLowerCase() } });
    expect({ staked: row.staked, locked: row.locked, unbonding: row.unbonding }).to.deep.equal({
      staked: acct.staked.toString(),
      locked: acct.locked.toString(),
      unbonding: acct.unbonding.toString(),
    });
  }

  for (const provider of PROVIDERS) {
    it(`${provider}: jobs, their history and prover accounts match the chain; indexing again writes nothing twice`, async function () {
      const scratch = await scratchDatabase(provider);
      const { db, close } = await openDatabase(scratch.url).then(async (d) => (await migrate(scratch.url), d));
      try {
        const announced = new Set<string>();
        const indexer = indexerOf(db, 7, (ids) => ids.forEach((id) => announced.add(id)));
        const ranges = await indexer.catchUp();
        // Every job was announced to subscribers once its range committed.
        expect([...announced].sort()).to.deep.equal(
          (await db.job.findMany({ select: { id: true } })).map((j) => j.id).sort(),
        );
        expect(ranges.length).to.be.greaterThan(1); // backfilled in several ranges
        await expectMatchesChain(db);
        // Each range reports what it changed (for the response cache): the jobs as they stood after its commit.
        const reported = new Map(ranges.flatMap((r) => r.changes!.jobs).map((j) => [j.id, j]));
        for (const job of await db.job.findMany())
          expect(reported.get(job.id), `job ${job.id}`).to.include({
            status: job.status,
            assignee: job.assignee,
            postedAt: job.postedAt,
            circuitId: job.circuitId,
            requester: job.requester,
          });
        expect(ranges.some((r) => r.changes!.circuits)).to.equal(true);
        expect(ranges.some((r) => r.changes!.provers)).to.equal(true);
        const history = await db.jobEvent.findMany({
          where: { jobId: "2" },
          orderBy: [{ blockNumber: "asc" }, { logIndex: "asc" }],
        });
        expect(history.map((e) => e.kind)).to.deep.equal(["Posted", "Claimed", "Reassigned"]);
        const proved = await db.job.findUniqueOrThrow({ where: { id: "1" } });
        // Addresses are stored lowercase, as the subgraph stores them.
        expect(proved).to.include({ status: "Proved", assignee: prover.address.toLowerCase() });
        expect(await db.circuit.count()).to.equal(devnet.deployment.circuits.length);

        // The same, as integrators see it through GraphQL.
        const data = await graphqlOn(
          db,
          `{ job(id: "2") { status attempt events { kind prover minFee maxFee price bond deadline keeper slashed job { id } } } prover(id: "${prover.address}") { id jobsProved jobsMissed } }`,
        );
        expect(data.job.status).to.equal("Open");
        expect(data.job.events.map((e: { kind: string }) => e.kind)).to.deep.equal(["Posted", "Claimed", "Reassigned"]);
        expect(data.prover).to.deep.equal({ id: prover.address.toLowerCase(), jobsProved: 1, jobsMissed: 1 });
        const [posted, claimed, reassigned] = data.job.events;
        expect(posted).to.include({
          minFee: String(FEE_OF_JOB_2),
          maxFee: String(FEE_OF_JOB_2),
          price: null,
          bond: String(BOND_OF_JOB_2),
          keeper: null,
        });
        expect(claimed.prover).to.equal(prover.address.toLowerCase());
        expect(claimed.deadline).to.be.a("number");
        expect(claimed.price, "a fixed price locks itself").to.equal(String(FEE_OF_JOB_2));
        // Both ends of the (flat) ramp raised by the same reward share.
        expect(BigInt(reassigned.maxFee)).to.be.greaterThan(FEE_OF_JOB_2);
        expect(reassigned.minFee).to.equal(reassigned.maxFee);
        expect(BigInt(reassigned.slashed)).to.be.greaterThan(0n);
        expect(reassigned.keeper).to.match(/^0x[0-9a-f]{40}$/);
        expect(reassigned.job).to.deep.equal({ id: "2" });
        const keeperShareIn = JSON.parse(history[2].data).split.keeperShare;
        expect(BigInt(keeperShareIn)).to.be.greaterThan(0n);

        // Restart from scratch over the same database (checkpoint lost): nothing is written twice.
        const before = {
          events: await db.jobEvent.count(),
          stakes: await db.stakeEvent.count(),
          prover: await db.prover.findUnique({ where: { address: prover.address.toLowerCase() } }),
        };
        await db.indexerCheckpoint.deleteMany({});
        await indexer.catchUp();
        expect(await db.jobEvent.count()).to.equal(before.events);
        expect(await db.stakeEvent.count()).to.equal(before.stakes);
        expect(await db.prover.findUnique({ where: { address: prover.address.toLowerCase() } })).to.deep.equal(
          before.prover,
        );
        await expectMatchesChain(db);
      } finally {
        await close();
        await scratch.drop();
      }
    });
  }

  for (const provider of PROVIDERS) {
    it(`${provider}: ramped jobs show the prices claims locked, proofs paid and requesters got back, and the price now`, async function () {
      const scratch = await scratchDatabase(provider);
      const { db, close } = await openDatabase(scratch.url).then(async (d) => (await migrate(scratch.url), d));
      try {
        const indexer = indexerOf(db, 50);
        await indexer.catchUp();
        const graphql = (query: string) => graphqlOn(db, query);
        const HISTORY = "events { kind price refund minFee maxFee }";
        const JOB = `minFee maxFee rampStart rampDuration lockedPrice currentPrice ${HISTORY}`;
        const data = await graphql(
          `{ proved: job(id: "${ramped.proved}") { status ${JOB} } reopened: job(id: "${ramped.reopened}") { status ${JOB} }
             open: job(id: "${ramped.open}") { status currentPrice }
             circuit(id: "${circuitId}") { recentLockedPrices medianLockedPrice }
             marketStats(id: "market") { feesPaid requesterSavings escrowed } }`,
        );
        const t0 = ramped.t0;
        const none = { price: null, refund: null, minFee: null, maxFee: null };
        expect(data.proved).to.deep.equal({
          status: "Proved",
          minFee: String(ETH),
          maxFee: String(2n * ETH),
          rampStart: t0,
          rampDuration: 100,
          lockedPrice: String((125n * ETH) / 100n),
          currentPrice: null,
          events: [
            { ...none, kind: "Posted", minFee: String(ETH), maxFee: String(2n * ETH) },
            { ...none, kind: "Claimed", price: String((125n * ETH) / 100n) },
            { ...none, kind: "Proved", price: String((125n * ETH) / 100n), refund: String((75n * ETH) / 100n) },
          ],
        });

        // The reward share the reassignment added to both ends, as the chain says it.
        const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
        const [reopening] = await market.queryFilter(market.filters.JobReassigned(ramped.reopened), 0);
        const reward = reopening.args.newMaxFee - 3n * ETH;
        expect(reward).to.be.greaterThan(0n);
        expect(reopening.args.newMinFee - ETH).to.equal(reward);
        expect(reopening.args.newRampStart).to.equal(BigInt(t0 + 161));
        expect(data.reopened).to.deep.equal({
          status: "Claimed",
          minFee: String(ETH + reward),
          maxFee: String(3n * ETH + reward),
          rampStart: t0 + 161,
          rampDuration: 200,
          lockedPrice: String(3n * ETH + reward),
          currentPrice: null,
          events: [
            { ...none, kind: "Posted", minFee: String(ETH), maxFee: String(3n * ETH) },
            { ...none, kind: "Claimed", price: String((15n * ETH) / 10n) },
            { ...none, kind: "Reassigned", minFee: String(ETH + reward), maxFee: String(3n * ETH + reward) },
            { ...none, kind: "Claimed", price: String(3n * ETH + reward) },
          ],
        });

        // Every claim of the circuit, newest first: the reopened job's two, the ramped proof's, jobs 2's and 1's (3
        // each, fixed). Sorted 1.25, 1.5, 3, 3, 3 + reward: the median is 3.
        expect(data.circuit).to.deep.equal({
          recentLockedPrices: [
            String(3n * ETH + reward),
            String((15n * ETH) / 10n),
            String((125n * ETH) / 100n),
            String(3n * ETH),
            String(3n * ETH),
          ],
          medianLockedPrice: String(3n * ETH),
        });
        // Proved: job 1 at its fixed 3 and the ramped job at 1.25 of its 2; held: job 2 (Open, 3 raised by the same
        // reward share) and the reopened job (Claimed), and the open ramp's 2.
        expect(data.marketStats).to.deep.equal({
          feesPaid: String(3n * ETH + (125n * ETH) / 100n),
          requesterSavings: String((75n * ETH) / 100n),
          escrowed: String(3n * ETH + reward + (3n * ETH + reward) + 2n * ETH),
        });

        // The open ramp at the head the indexer has seen (t0 + 700: 1.3); once the head moves 100 s on and the
        // indexer has read it (a range with no market event), 0.1 higher.
        expect(data.open).to.deep.equal({ status: "Open", currentPrice: String((13n * ETH) / 10n) });
        // (The block is taken back afterwards, so that each database's run meets the same chain.)
        const snapshot = await devnet.chain.provider.send("evm_snapshot", []);
        try {
          await devnet.chain.provider.send("evm_setNextBlockTimestamp", [t0 + 800]);
          await devnet.chain.provider.send("evm_mine", []);
          const moved = await indexer.catchUp();
          expect(moved.map((r) => r.events)).to.deep.equal([0]);
          expect((await db.indexerCheckpoint.findUnique({ where: { id: 1 } }))!.headTimestamp).to.equal(t0 + 800);
          const later = await graphql(`{ job(id: "${ramped.open}") { currentPrice } }`);
          expect(later.job.currentPrice).to.equal(String((14n * ETH) / 10n));
        } finally {
          await devnet.chain.provider.send("evm_revert", [snapshot]);
        }
      } finally {
        await close();
        await scratch.drop();
      }
    });
  }

  it("rewinds a reorg to the fork point (snapshot/revert on the node)", async function () {
    const scratch = await scratchDatabase("sqlite");
    const { db, close } = await openDatabase(scratch.url).then(async (d) => (await migrate(scratch.url), d));
    try {
      const indexer = indexerOf(db, 50);
      await indexer.catchUp();
      const snapshot = await devnet.chain.provider.send("evm_snapshot", []);
      const market = connectMarket(devnet.deployment.market, prover);
      const orphan = await postJob(
        devnet,
        requester,
        circuitId,
        await exampleInputs("poseidon_preimage", "idx-orphan"),
      );
      await (
        await market.claim(orphan, termsOf((await market.queryFilter(market.filters.JobPosted(orphan), 0))[0].args))
      ).wait();
      await indexer.catchUp();
      expect((await db.job.findUniqueOrThrow({ where: { id: orphan.toString() } })).status).to.equal("Claimed");

      // The chain forgets those blocks; another job takes the same id on the new branch.
      await devnet.chain.provider.send("evm_revert", [snapshot]);
      const replacement = await postJob(
        devnet,
        requester,
        circuitId,
        await exampleInputs("poseidon_preimage", "idx-replacement"),
        { fee: parseEther("4") },
      );
      await devnet.chain.provider.send("evm_mine", []);
      await devnet.chain.provider.send("evm_mine", []);
      expect(replacement).to.equal(orphan);
      const results = await indexer.catchUp();
      expect(results.some((r) => r.rewoundTo !== undefined)).to.equal(true);
      // A rewind may change anything above the fork: it reports no change list, and the response cache drops all.
      expect(results.find((r) => r.rewoundTo !== undefined)!.changes).to.equal(null);
      const row = await db.job.findUniqueOrThrow({ where: { id: replacement.toString() }, include: { events: true } });
      expect(row).to.include({
        status: "Open",
        minFee: parseEther("4").toString(),
        maxFee: parseEther("4").toString(),
        lockedPrice: null,
        assignee: null,
      });
      expect(row.events.map((e) => e.kind)).to.deep.equal(["Posted"]);
      expect(
        (await connectMarket(devnet.deployment.market, devnet.chain.provider).jobState(replacement)).status,
      ).to.equal(JOB_STATUS.Open);
      await expectMatchesChain(db);
    } finally {
      await close();
      await scratch.drop();
    }
  });
});
