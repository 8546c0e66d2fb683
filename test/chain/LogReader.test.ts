/**
 * The one chain reader (common/chain/logReader.ts, with the market's ABI) on a real local chain with the market's
 * real events, read through the provider imitation (dev/rpcProxy.ts: a real HTTP path that refuses ranges and
 * results in public providers' words, answers 429, drops connections, reports stale heads): it reads every event
 * once, in order; narrows a refused range to what the provider said fits and widens it again after answers; retries
 * rate limits and dropped connections with backoff, counted, and gives up after its attempts with the provider's
 * error underneath; holds back blocks newer than its confirmation depth; answers a reorg (snapshot/revert on the
 * node) with the fork point, reads the new branch from there, and refuses a fork below every block kept; and finds
 * one job's events by their indexed id.
 */
import { expect } from "chai";
import { Interface, type JsonRpcProvider, parseEther, type Wallet } from "ethers";
import type { BlockRef, ChainEvent, Cursor, LogReader, LogReaderOptions } from "../../common/chain/logReader.ts";
import { ChainReadError, createLogReader, ReorgTooDeepError } from "../../common/chain/logReader.ts";
import { classifyRpcFailure } from "../../common/chain/rpcErrors.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import { FatalError, RetryableError } from "../../common/errors.ts";
import { termsOf } from "../../common/market/jobBook.ts";
import { createMarketReader, jobTopics } from "../../common/market/marketReader.ts";
import { type ProviderImitation, type RpcProxy, startRpcProxy } from "../../dev/rpcProxy.ts";
import { type Devnet, type PostOptions, postJob, startDevnet } from "../helpers/market.ts";
import { readerProvider } from "../helpers/readerProvider.ts";

const hex = (n: number) => `0x${n.toString(16)}`;
const idsOf = (events: ChainEvent[]) => events.map((e) => `${e.txHash}:${e.logIndex}`);

interface Read {
  events: ChainEvent[];
  /** Blocks per delivered range, in order. */
  spans: number[];
  cursor: Cursor;
  /** Every header the reader checked, as a caller keeps them for reorgs. */
  kept: Map<number, BlockRef>;
}

/**
 * Reads until the reader is caught up, or (`until`) has read that block: a provider with stale heads makes it stop
 * short now and then, and asking again reads on (a reorg here is a failure).
 */
async function readAll(
  reader: LogReader,
  cursor: Cursor = { number: -1, hash: null },
  kept = new Map<number, BlockRef>(),
  until?: number,
): Promise<Read> {
  const read: Read = { events: [], spans: [], cursor, kept };
  for (let idle = 0; ;) {
    const step = await reader.next(read.cursor, () => [...kept.values()]);
    if (step === null) {
      if (until === undefined || read.cursor.number >= until) return read;
      if (++idle > 50) throw new Error(`the reader stays at block ${read.cursor.number}, short of ${until}`);
      continue;
    }
    idle = 0;
    if (step.kind === "reorg") throw new Error(`unexpected reorg, fork at ${step.fork.number}`);
    expect(step.from, "ranges follow each other").to.equal(read.cursor.number + 1);
    read.events.push(...step.events);
    read.spans.push(step.to - step.from + 1);
    for (const b of step.blocks) kept.set(b.number, { number: b.number, hash: b.hash });
    read.cursor = step.cursor;
  }
}

describe("chain reader: ranged eth_getLogs on a real local chain, through a provider imitation", function () {
  let devnet: Devnet;
  let market: string;
  let requester: Wallet;
  let circuitId: bigint;
  /** Job 2, which is cancelled: its events are JobPosted and JobCancelled. */
  const CANCELLED = 2n;
  const proxies: RpcProxy[] = [];
  const providers: JsonRpcProvider[] = [];

  before(async function () {
    devnet = await startDevnet();
    market = devnet.deployment.market;
    requester = devnet.chain.accounts[2];
    circuitId = devnet.circuitId("poseidon_preimage", "groth16");
    // Jobs with empty blocks between them, then a cancellation and an empty tail: ranges have events, and gaps.
    // (Mined by hardhat_mine, whose reserved blocks name no parent: the reader checks the cursor's block instead.)
    for (let i = 0; i < 6; i++) {
      await post(`reader-${i}`);
      await devnet.chain.provider.send("hardhat_mine", [hex(3)]);
    }
    const [posted] = await createMarketReader({ provider: devnet.chain.provider, address: market }).scan(
      0,
      jobTopics(CANCELLED, ["JobPosted"]),
    );
    const terms = termsOf(posted.args as unknown as Parameters<typeof termsOf>[0]);
    await (await connectMarket(market, requester).cancel(CANCELLED, terms)).wait();
    await devnet.chain.provider.send("hardhat_mine", [hex(40)]);
  });

  after(async function () {
    for (const p of providers) p.destroy();
    for (const p of proxies) await p.close();
    await devnet?.chain.stop();
  });

  async function proxy(o: ProviderImitation): Promise<RpcProxy> {
    const p = await startRpcProxy(devnet.chain.url, o);
    proxies.push(p);
    return p;
  }

  /** An ethers provider through the proxy: one call per HTTP request, ethers' own 429 retries off. */
  function through(p: RpcProxy): JsonRpcProvider {
    const provider = readerProvider(p.url);
    providers.push(provider);
    return provider;
  }

  const post = async (seed: string, o?: PostOptions) =>
    postJob(devnet, requester, circuitId, await exampleInputs("poseidon_preimage", seed), o);

  function reader(provider: LogReaderOptions["provider"], o: Partial<LogReaderOptions> = {}) {
    const retries: Parameters<NonNullable<LogReaderOptions["onRetry"]>>[0][] = [];
    const sleeps: number[] = [];
    const r = createMarketReader({
      provider,
      address: market,
      onRetry: (x) => retries.push(x),
      // The backoff is what the reader asks to wait; the test does not wait it.
      sleep: async (ms) => void sleeps.push(ms),
      random: () => 0.5,
      ...o,
    });
    return { r, retries, sleeps };
  }

  const nodeHead = async () => Number(await devnet.chain.provider.send("eth_blockNumber", []));

  /** Every market event on the chain now, straight from the node. */
  async function truth(): Promise<string[]> {
    const logs = (await devnet.chain.provider.send("eth_getLogs", [
      { address: market, fromBlock: "0x0", toBlock: "latest" },
    ])) as { transactionHash: string; logIndex: string }[];
    return logs.map((l) => `${l.transactionHash}:${Number(l.logIndex)}`);
  }

  it("a provider that refuses ranges wider than 4 blocks: every event read; the range narrows to 4 and stays", async function () {
    const all = await truth();
    const messages = new Set<string>();
    for (const seed of [1, 2, 3, 4]) {
      const p = await proxy({ maxBlockRange: 4, seed });
      const { r, retries } = reader(through(p), { initialRange: 2, growAfter: 2, maxRange: 64 });
      const read = await readAll(r, undefined, undefined, await nodeHead());
      expect(idsOf(read.events), `seed ${seed}`).to.deep.equal(all);
      const refusals = retries.filter((x) => x.kind === "tooLarge");
      expect(refusals.length, "each refusal the provider sent was seen").to.equal(p.stats().rangeRefusals);
      expect(refusals.length).to.be.within(1, 3);
      for (const x of refusals) messages.add(x.message);
      // Grown after answers (2, 2, then 4), never delivered wider than the provider takes, and settled at its cap.
      expect(read.spans.slice(0, 3)).to.deep.equal([2, 2, 4]);
      expect(Math.max(...read.spans)).to.equal(4);
      expect(r.range).to.equal(4);
    }
    // Refusals came in more than one provider's words (the proxy picks among Alchemy, QuickNode, geth, generic).
    expect(messages.size).to.be.greaterThan(1);
  });

  it("a provider that refuses answers of more than 3 logs (one block holds 3): the range narrows to what it suggests and widens again", async function () {
    const p = await proxy({ maxResults: 3, maxBlockRange: 10_000, seed: 7 });
    const { r, retries } = reader(through(p), { initialRange: 16, growAfter: 2, maxRange: 64 });
    const read = await readAll(r, undefined, undefined, await nodeHead());
    expect(idsOf(read.events)).to.deep.equal(await truth());
    const refusals = retries.filter((x) => x.kind === "tooLarge");
    expect(p.stats().resultRefusals).to.be.greaterThan(0);
    expect(refusals.length).to.equal(p.stats().resultRefusals);
    expect(refusals[0].message).to.match(/more than 3 results|Log response size exceeded/);
    // Narrowed below the first range, then (through the empty tail) wider again than right after the narrowing.
    const narrowest = Math.min(...read.spans);
    expect(narrowest).to.be.lessThan(16);
    expect(read.spans.slice(read.spans.indexOf(narrowest))).to.satisfy((later: number[]) =>
      later.some((s) => s > narrowest),
    );
    expect(r.range).to.be.greaterThan(narrowest);
  });

  it("429s, dropped connections and stale heads: retried with backoff, every retry counted, every event read once", async function () {
    const p = await proxy({ rateLimitRate: 0.25, dropRate: 0.15, staleHeadRate: 0.3, maxBlockRange: 10_000, seed: 11 });
    const backoffMs = { initial: 100, max: 800 };
    const { r, retries, sleeps } = reader(through(p), { initialRange: 8, maxAttempts: 30, backoffMs });
    const read = await readAll(r, undefined, undefined, await nodeHead());
    expect(idsOf(read.events)).to.deep.equal(await truth());
    const stats = p.stats();
    expect(stats.rateLimited).to.be.greaterThan(0);
    expect(stats.dropped).to.be.greaterThan(0);
    expect(retries.filter((x) => x.kind === "rateLimited").length).to.equal(stats.rateLimited);
    expect(retries.filter((x) => x.kind === "transient").length).to.equal(stats.dropped);
    // Exponential backoff (random 0.5: no jitter), capped.
    expect(sleeps).to.deep.equal(retries.map((x) => Math.min(800, 100 * 2 ** (x.attempt - 1))));
    expect(retries.some((x) => x.attempt > 1)).to.equal(true);
  });

  it("a provider that answers nothing but 429: gives up after maxAttempts with a ChainReadError, the 429 underneath", async function () {
    const p = await proxy({ rateLimitRate: 1 });
    const { r, retries, sleeps } = reader(through(p), { maxAttempts: 4, backoffMs: { initial: 100, max: 250 } });
    const error = await r
      .next({ number: -1, hash: null }, () => [])
      .then(
        () => expect.fail("read through a provider that answers only 429"),
        (e: unknown) => e,
      );
    expect(error).to.be.instanceOf(ChainReadError).and.instanceOf(RetryableError);
    const e = error as ChainReadError;
    expect(e).to.include({ code: "RPC_FAILED", stage: "chain", retryable: true });
    expect(e.details).to.deep.equal({ method: "eth_blockNumber", kind: "rateLimited" });
    expect(p.stats().rateLimited).to.equal(4);
    expect(retries.map((x) => [x.kind, x.attempt])).to.deep.equal([
      ["rateLimited", 1],
      ["rateLimited", 2],
      ["rateLimited", 3],
    ]);
    expect(sleeps).to.deep.equal([100, 200, 250]);
    // The cause chain holds ethers' error with the provider's answer (HTTP 429, its JSON-RPC body).
    const cause = [...e.chain()].find((x) => (x as { code?: unknown }).code === "SERVER_ERROR");
    expect(cause, e.fullMessage()).to.not.equal(undefined);
    expect(classifyRpcFailure(cause)).to.deep.equal({ kind: "rateLimited", message: "Too Many Requests" });
    expect(e.fullMessage()).to.match(/eth_blockNumber failed after 4 attempt\(s\).*429 Too Many Requests/);
  });

  it("finds one job's events by its indexed id, in ranges the provider takes, with block timestamps", async function () {
    const p = await proxy({ maxBlockRange: 4, seed: 5 });
    const { r } = reader(through(p), { initialRange: 64 });
    const events = await r.scan(0, jobTopics(CANCELLED), undefined, true);
    expect(events.map((e) => e.name)).to.deep.equal(["JobPosted", "JobCancelled"]);
    for (const e of events) {
      expect(e.args.jobId).to.equal(CANCELLED);
      const block = await devnet.chain.provider.getBlock(e.blockNumber);
      expect(e.timestamp).to.equal(block!.timestamp);
      expect(e.blockHash).to.equal(block!.hash);
    }
    expect(p.stats().rangeRefusals).to.be.greaterThan(0);
    // Every job's JobPosted, by the event's topic alone.
    const posted = await r.scan(0, [jobTopics(1n, ["JobPosted"])[0]]);
    expect(posted.map((e) => e.args.jobId)).to.deep.equal([1n, 2n, 3n, 4n, 5n, 6n]);
  });

  it("holds back blocks above head - confirmations until they are confirmed", async function () {
    const node = devnet.chain.provider;
    const { r } = reader(node, { confirmations: 3 });
    const head = nodeHead;
    const first = await readAll(r);
    expect(first.cursor.number).to.equal((await head()) - 3);
    expect(idsOf(first.events)).to.deep.equal(await truth()); // the history's tail is empty blocks

    const jobId = await post("reader-conf");
    const postedAt = await head();
    let read = await readAll(r, first.cursor, first.kept);
    expect(read.events, "not confirmed yet").to.deep.equal([]);
    await node.send("hardhat_mine", [hex(2)]);
    read = await readAll(r, read.cursor, read.kept);
    expect(read.events, "2 confirmations of 3").to.deep.equal([]);
    expect(read.cursor.number).to.equal(postedAt - 1);
    await node.send("evm_mine", []);
    read = await readAll(r, read.cursor, read.kept);
    expect(read.events.map((e) => [e.name, e.args.jobId, e.blockNumber])).to.deep.equal([
      ["JobPosted", jobId, postedAt],
    ]);
    expect(read.cursor.number).to.equal(postedAt);
  });

  it("a reorg (snapshot/revert): a notice with the fork point, the new branch read from there; below every kept block, ReorgTooDeepError", async function () {
    const node = devnet.chain.provider;
    const { r } = reader(node);
    const head = nodeHead;
    const base = await readAll(r);
    const forkNumber = await head();
    expect(base.cursor.number).to.equal(forkNumber);
    const forkHash = (await node.getBlock(forkNumber))!.hash!;

    // A branch with a job on it, read; then the node forgets it.
    const snapshot = await node.send("evm_snapshot", []);
    const orphan = await post("orphan");
    await node.send("hardhat_mine", [hex(2)]);
    const onBranch = await readAll(r, base.cursor, new Map(base.kept));
    expect(onBranch.events.map((e) => e.args.jobId)).to.deep.equal([orphan]);
    await node.send("evm_revert", [snapshot]);

    // The new branch takes the same job id with other terms, and grows exactly as long as the old one: the reader
    // must see the fork without a longer chain to read.
    const replacement = await post("replacement", { fee: parseEther("4") });
    expect(replacement).to.equal(orphan);
    await node.send("hardhat_mine", [hex(onBranch.cursor.number - (await head()))]);
    expect(await head()).to.equal(onBranch.cursor.number);
    const kept = onBranch.kept;
    const notice = await r.next(onBranch.cursor, () => [...kept.values()].reverse());
    expect(notice).to.deep.equal({
      kind: "reorg",
      fork: { number: forkNumber, hash: forkHash },
      orphaned: onBranch.cursor,
    });

    // The caller drops what it kept above the fork, and reads on from it: the new branch's events only.
    for (const n of kept.keys()) if (n > forkNumber) kept.delete(n);
    const reread = await readAll(r, { number: forkNumber, hash: forkHash }, kept);
    expect(reread.events.map((e) => [e.name, e.args.jobId, e.args.maxFee])).to.deep.equal([
      ["JobPosted", replacement, parseEther("4")],
    ]);
    expect(idsOf(reread.events)).to.not.include.members(idsOf(onBranch.events));
    expect(idsOf([...base.events, ...reread.events])).to.deep.equal(await truth());

    // A fork below every block kept: nothing to rewind to.
    const snapshot2 = await node.send("evm_snapshot", []);
    await post("orphan-2");
    const deep = await readAll(r, reread.cursor, new Map(reread.kept));
    await node.send("evm_revert", [snapshot2]);
    await node.send("hardhat_mine", [hex(5)]);
    const onlyOrphaned = [...deep.kept.values()].filter((b) => b.number > reread.cursor.number);
    expect(onlyOrphaned.length).to.be.greaterThan(0);
    const error = await r
      .next(deep.cursor, () => onlyOrphaned)
      .then(
        () => expect.fail("a reorg below every kept block was not refused"),
        (e: unknown) => e,
      );
    expect(error).to.be.instanceOf(ReorgTooDeepError).and.instanceOf(FatalError);
    expect(error).to.include({ code: "REORG_TOO_DEEP", retryable: false });
    expect((error as Error).message).to.match(/forked below the \d+ block\(s\) kept/);
  });
});

describe("chain reader: a provider that states one block more than it takes", function () {
  it("learns the cap from its refusals, not from its statement: refused twice (2,000, then 500 blocks), then never again", async function () {
    let refusals = 0;
    const spans: number[] = [];
    const provider = {
      async send(method: string, params: unknown[]): Promise<unknown> {
        if (method === "eth_blockNumber") return "0xbb7"; // 2,999
        if (method !== "eth_getLogs") throw new Error(`unexpected ${method}`);
        const filter = params[0] as { fromBlock: string; toBlock: string };
        const span = Number(filter.toBlock) - Number(filter.fromBlock) + 1;
        spans.push(span);
        // It says 500, and refuses 500.
        if (span >= 500) {
          refusals++;
          throw Object.assign(new Error("could not coalesce error"), {
            error: { code: -32600, message: "You can make eth_getLogs requests with up to a 500 block range." },
          });
        }
        return [];
      },
    };
    const reader = createLogReader({
      provider,
      address: "0x" + "11".repeat(20),
      iface: new Interface([]),
      initialRange: 2_000,
      growAfter: 1,
    });
    expect(await reader.scan(0, [])).to.deep.equal([]);
    expect(refusals).to.equal(2);
    expect(spans.slice(0, 2)).to.deep.equal([2_000, 500]);
    expect(Math.max(...spans.slice(2))).to.equal(499);
  });
});
