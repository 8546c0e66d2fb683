/**
 * The coordinator in process (createCoordinator): one step on request before it starts; once started, its own loop
 * indexes to the head, the HTTP server serves what it indexed, a new job reaches GraphQL subscribers and drops the
 * kept answers it changes; stop() ends the loop without waiting out its poll interval, and closes the server with
 * a subscription still open. A job's current price follows the chain's head as the loop reads it, past the response
 * cache, which keeps the answers that do not price.
 */
import { expect } from "chai";
import { parseEther } from "ethers";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { createCoordinator } from "../../coordinator/coordinator.ts";
import { scratchDatabase, type ScratchDatabase } from "../../coordinator/db/scratch.ts";
import { capturingLogger } from "../helpers/capturingLogger.ts";
import { coordinatorConfigFor, type Devnet, postJob, startDevnet } from "../helpers/market.ts";

const POLL_MS = 2_000;

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

describe("createCoordinator", function () {
  let devnet: Devnet;
  let scratch: ScratchDatabase;

  before(async function () {
    devnet = await startDevnet();
    scratch = await scratchDatabase("sqlite");
  });

  after(async function () {
    await devnet?.chain.stop();
    await scratch?.drop();
  });

  it("runs its loop beside the HTTP server, announces what it indexes, and stops at once", async function () {
    const { logger, lines } = capturingLogger();
    const coordinator = await createCoordinator(coordinatorConfigFor(devnet, scratch.url, { pollMs: POLL_MS, logger }));
    try {
      expect(() => coordinator.url).to.throw(/not started/);
      const first = await coordinator.syncOnce();
      expect(first, "one step before the loop runs").to.include({ from: 0 });

      await coordinator.start();
      const { url } = coordinator;
      expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await rejection(coordinator.syncOnce())).message).to.match(/loop is running/);
      const head = await devnet.chain.provider.getBlockNumber();
      const health = async () => (await (await fetch(`${url}/health`)).json()) as { indexedBlock: number | null };
      for (let tries = 0; ((await health()).indexedBlock ?? -1) < head; tries++) {
        expect(tries, "indexed to the head").to.be.lessThan(100);
        await new Promise((r) => setTimeout(r, 100));
      }

      const graphql = (query: string, accept = "application/json") =>
        fetch(`${url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", accept },
          body: JSON.stringify({ query }),
        });
      const jobIds = async () =>
        (
          (await (await graphql("{ jobs(first: 5, orderBy: postedAt, orderDirection: desc) { id } }")).json()) as any
        ).data.jobs.map((n: { id: string }) => n.id);
      expect(await jobIds()).to.deep.equal([]);
      expect(await jobIds(), "the kept answer").to.deep.equal([]);

      const stream = await graphql("subscription { jobs { id status } }", "text/event-stream");
      expect(stream.headers.get("content-type")).to.match(/text\/event-stream/);
      const reader = stream.body!.getReader();
      const decoder = new TextDecoder();
      let received = "";
      const circuitId = devnet.circuitId("poseidon_preimage", "groth16");
      await postJob(devnet, devnet.chain.accounts[2], circuitId, await exampleInputs("poseidon_preimage", "coord"));
      while (!/data: \{.*"id":"1"/.test(received)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the subscription ended before the job came: ${received}`);
        received += decoder.decode(value);
      }
      expect(await jobIds(), "the commit dropped the kept answer").to.deep.equal(["1"]);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).to.match(/pm_coordinator_indexed_block [1-9]/);
      expect(metrics).to.match(/pm_coordinator_lag_blocks 0/);

      // The loop has reached the head and is waiting out its poll interval; the subscription is open.
      await new Promise((r) => setTimeout(r, 300));
      const stopping = Date.now();
      await coordinator.stop();
      expect(Date.now() - stopping, "stop() cuts the loop's wait short").to.be.lessThan(POLL_MS / 2);
      // What was already sent may still be read; then the stream ends (or fails, its connection cut).
      const ends = async () => {
        for (let reads = 0; reads < 10; reads++) {
          const { done } = await reader.read().catch(() => ({ done: true }));
          if (done) return true;
        }
        return false;
      };
      expect(await ends(), "the subscription's connection is closed").to.equal(true);
      await rejection(fetch(`${url}/health`));
      expect(lines.map((l) => l.msg)).to.include.members(["database ready", "REST listening", "indexed range"]);
      expect(lines.at(-1)?.msg).to.equal("coordinator stopped");
      await coordinator.stop(); // a second stop is the first one's
    } finally {
      await coordinator.stop();
    }
  });

  it("prices an open job at the head its loop has read, never from the response cache", async function () {
    const own = await scratchDatabase("sqlite");
    const coordinator = await createCoordinator({
      databaseUrl: own.url,
      rpcUrl: devnet.chain.url,
      marketAddress: devnet.deployment.market,
      startBlock: 0,
      confirmations: 0,
      rangeSize: 1_000,
      pollMs: 100,
      host: "127.0.0.1",
      port: 0,
      logger: capturingLogger().logger,
    });
    try {
      await coordinator.start();
      const { url } = coordinator;
      const provider = devnet.chain.provider;
      const ETH = parseEther("1");
      // From 1 at rampStart to 2 a thousand seconds later: 0.1 more every hundred seconds.
      const rampStart = (await provider.getBlock("latest"))!.timestamp + 10;
      const jobId = await postJob(
        devnet,
        devnet.chain.accounts[2],
        devnet.circuitId("poseidon_preimage", "groth16"),
        await exampleInputs("poseidon_preimage", "coord-price"),
        { minFee: ETH, maxFee: 2n * ETH, rampStart: BigInt(rampStart), rampDuration: 1_000n },
      );
      /** Mines an empty block at `second` and waits until the loop has indexed it. */
      const headAt = async (second: number) => {
        await provider.send("evm_setNextBlockTimestamp", [second]);
        await provider.send("evm_mine", []);
        const head = await provider.getBlockNumber();
        for (let tries = 0; ; tries++) {
          const { indexedBlock } = (await (await fetch(`${url}/health`)).json()) as { indexedBlock: number | null };
          if ((indexedBlock ?? -1) >= head) return;
          expect(tries, `block ${head} indexed`).to.be.lessThan(100);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      const ask = async (query: string) =>
        (
          (await (
            await fetch(`${url}/graphql`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ query }),
            })
          ).json()) as any
        ).data.job;
      const cacheHits = async () =>
        Number(/pm_coordinator_graphql_cache_hits_total (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())![1]);
      const priced = `{ job(id: "${jobId}") { currentPrice } }`;
      const plain = `{ job(id: "${jobId}") { status maxFee } }`;

      await headAt(rampStart + 100);
      expect(await ask(priced)).to.deep.equal({ currentPrice: String((11n * ETH) / 10n) });
      // Asked twice: an answer is kept from its query's second asking (responseCache.ts).
      for (let i = 0; i < 2; i++) expect(await ask(plain)).to.deep.equal({ status: "Open", maxFee: String(2n * ETH) });
      await headAt(rampStart + 200);
      const hits = await cacheHits();
      expect(await ask(priced), "the same query, after the head moved").to.deep.equal({
        currentPrice: String((12n * ETH) / 10n),
      });
      expect(await cacheHits(), "the priced answer was not kept").to.equal(hits);
      expect(await ask(plain)).to.deep.equal({ status: "Open", maxFee: String(2n * ETH) });
      expect(await cacheHits(), "the answer without the price was kept (no market event since)").to.equal(hits + 1);
    } finally {
      await coordinator.stop();
      await own.drop();
    }
  });
});
