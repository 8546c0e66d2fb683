/**
 * The coordinator's indexer against a real local chain (hardhat node) and a real database (SQLite file and
 * PostgreSQL): events of real jobs (posted, claimed, proved with a real proof, reassigned, expired) and stakes
 * become jobs, history and prover accounts that match the chain; indexing again writes nothing twice; a reorg
 * (snapshot/revert on the node) is rewound to the fork point.
 */
import { expect } from "chai";
import { parseEther, type Wallet } from "ethers";
import { loadManifest } from "../../common/circuits/catalog.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket, connectToken } from "../../common/contracts/artifacts.ts";
import { termsOf } from "../../common/market/jobBook.ts";
import { JOB_STATUS, jobStatusName } from "../../common/market/jobStatus.ts";
import { proveWithSnarkjs } from "../../common/proofs/prove.ts";
import { openDatabase } from "../../coordinator/db/client.ts";
import { migrate } from "../../coordinator/db/engine.ts";
import { PROVIDERS } from "../../coordinator/db/schema.ts";
import { scratchDatabase } from "../../coordinator/db/scratch.ts";
import { createGraphQL } from "../../coordinator/graphql/yoga.ts";
import { createIndexer } from "../../coordinator/indexer/indexer.ts";
import { advanceTime, type Devnet, postJob, startDevnet } from "../helpers/market.ts";
import "../helpers/releaseSnarkjs.ts";

/** The stalled job (id 2) is posted with postJob's default terms. */
const FEE_OF_JOB_2 = parseEther("3");
const BOND_OF_JOB_2 = parseEther("2");

describe("coordinator indexer, against a real local chain", function () {
  let devnet: Devnet;
  let prover: Wallet;
  let keeper: Wallet;
  let requester: Wallet;
  let circuitId: bigint;

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
  });

  after(async function () {
    await devnet?.chain.stop();
  });

  async function expectMatchesChain(db: Awaited<ReturnType<typeof openDatabase>>["db"]) {
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
        const indexer = createIndexer({
          db,
          provider: devnet.chain.provider,
          marketAddress: devnet.deployment.market,
          startBlock: 0,
          confirmations: 0,
          rangeSize: 7,
          onJobsChanged: (ids) => ids.forEach((id) => announced.add(id)),
        });
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
        const response = await createGraphQL(db).fetch("http://localhost/graphql", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            query: `{ job(id: "2") { status attempt events { kind prover fee bond deadline keeper slashed job { id } } } prover(id: "${prover.address}") { id jobsProved jobsMissed } }`,
          }),
        });
        const { data } = (await response.json()) as { data: any };
        expect(data.job.status).to.equal("Open");
        expect(data.job.events.map((e: { kind: string }) => e.kind)).to.deep.equal(["Posted", "Claimed", "Reassigned"]);
        expect(data.prover).to.deep.equal({ id: prover.address.toLowerCase(), jobsProved: 1, jobsMissed: 1 });
        const [posted, claimed, reassigned] = data.job.events;
        expect(posted).to.include({ fee: String(FEE_OF_JOB_2), bond: String(BOND_OF_JOB_2), keeper: null });
        expect(claimed.prover).to.equal(prover.address.toLowerCase());
        expect(claimed.deadline).to.be.a("number");
        expect(BigInt(reassigned.fee)).to.be.greaterThan(FEE_OF_JOB_2);
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

  it("rewinds a reorg to the fork point (snapshot/revert on the node)", async function () {
    const scratch = await scratchDatabase("sqlite");
    const { db, close } = await openDatabase(scratch.url).then(async (d) => (await migrate(scratch.url), d));
    try {
      const indexer = createIndexer({
        db,
        provider: devnet.chain.provider,
        marketAddress: devnet.deployment.market,
        startBlock: 0,
        confirmations: 0,
        rangeSize: 50,
      });
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
      expect(row).to.include({ status: "Open", fee: parseEther("4").toString(), assignee: null });
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
