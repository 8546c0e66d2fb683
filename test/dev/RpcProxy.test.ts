/**
 * The proxy that imitates a public RPC provider (dev/rpcProxy.ts), in front of a real local chain (hardhat node with
 * the devnet's contracts): an ethers provider reads the chain through it, single calls and batches; eth_getLogs is
 * refused over the block-range cap and the result cap in real providers' words; 429s, drops, stale heads and latency
 * really happen, drops never hide a sent transaction, and the same seed gives the same faults.
 */
import { expect } from "chai";
import { JsonRpcProvider, Network } from "ethers";
import type { LocalChain } from "../../dev/localNode.ts";
import { createProvider } from "../../common/chain/provider.ts";
import { type ProviderImitation, type RpcProxy, startRpcProxy } from "../../dev/rpcProxy.ts";
import { type Devnet, startDevnet } from "../helpers/market.ts";

/** The codes of the range refusals' formats (Alchemy, QuickNode, geth forks, generic). */
const RANGE_CODES = [-32600, -32614, -32000, -32602];

interface Raw {
  status: number;
  headers: Headers;
  body: any;
}

/** One HTTP request, as plain as a client can make it. */
async function post(url: string, body: unknown): Promise<Raw> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

const call = (method: string, params: unknown[] = [], id: number | string = 1) => ({
  jsonrpc: "2.0",
  id,
  method,
  params,
});
const hex = (n: number) => `0x${n.toString(16)}`;

describe("dev/rpcProxy: a JSON-RPC proxy that imitates a public provider, on a real local chain", function () {
  let devnet: Devnet;
  let chain: LocalChain;
  const proxies: RpcProxy[] = [];
  const providers: JsonRpcProvider[] = [];

  async function proxy(o: ProviderImitation = {}): Promise<RpcProxy> {
    const p = await startRpcProxy(chain.url, o);
    proxies.push(p);
    return p;
  }
  function through(p: RpcProxy): JsonRpcProvider {
    const provider = createProvider(p.url, 200);
    providers.push(provider);
    return provider;
  }
  /** A provider told the network, so that it asks nothing before the call itself (no eth_chainId to fail). */
  function throughKnownNetwork(p: RpcProxy): JsonRpcProvider {
    const provider = new JsonRpcProvider(p.url, Network.from(31337), { staticNetwork: true, cacheTimeout: -1 });
    providers.push(provider);
    return provider;
  }
  const realHead = async () => Number(await chain.provider.send("eth_blockNumber", []));

  before(async function () {
    devnet = await startDevnet();
    chain = devnet.chain;
    // Room for ranges wider than the cap.
    await chain.provider.send("hardhat_mine", ["0x300"]);
  });

  after(async function () {
    for (const provider of providers) provider.destroy();
    for (const p of proxies) await p.close();
    await chain?.stop();
  });

  it("passes reads through to the node, single calls and JSON-RPC batches alike", async function () {
    const p = await proxy();
    const provider = through(p);
    expect(p.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    const head = await realHead();
    expect(await provider.getBlockNumber()).to.equal(head);
    // Issued together, ethers sends them as one batch.
    const [balance, block, network] = await Promise.all([
      provider.getBalance(chain.accounts[1].address),
      provider.getBlock(head),
      provider.getNetwork(),
    ]);
    expect(balance).to.equal(await chain.provider.getBalance(chain.accounts[1].address));
    expect(block!.hash).to.equal((await chain.provider.getBlock(head))!.hash);
    expect(network.chainId).to.equal(31337n);

    const batch = await post(p.url, [
      call("eth_chainId", [], 10),
      call("eth_getLogs", [{ fromBlock: hex(head - 599), toBlock: hex(head) }], 11),
      call("eth_blockNumber", [], 12),
    ]);
    expect(batch.status).to.equal(200);
    expect(batch.body.map((a: any) => a.id)).to.deep.equal([10, 11, 12]);
    expect(batch.body[0].result).to.equal("0x7a69");
    expect(batch.body[1].error.code).to.be.oneOf(RANGE_CODES);
    expect(Number(batch.body[2].result)).to.equal(head);

    const stats = p.stats();
    expect(stats.requests).to.be.lessThan(stats.calls);
    expect(stats.byMethod.eth_getLogs).to.equal(1);
    // The refused call never reached the node; the others did.
    expect(stats.forwardedByMethod.eth_getLogs).to.equal(undefined);
    expect(stats.forwardedByMethod.eth_chainId).to.be.greaterThan(0);
    expect(stats.rangeRefusals).to.equal(1);
  });

  it("refuses eth_getLogs over a 500-block range in real providers' words, and passes 500 blocks or a block hash", async function () {
    const p = await proxy();
    const provider = through(p);
    const head = await realHead();

    const refused = await provider.getLogs({ fromBlock: head - 599, toBlock: head }).then(
      () => undefined,
      (e) => e,
    );
    expect(refused, "a 600-block range").to.be.instanceOf(Error);
    expect(refused.error.code).to.be.oneOf(RANGE_CODES);
    // A missing toBlock is "latest".
    const openEnded = await provider.getLogs({ fromBlock: head - 599 }).then(
      () => undefined,
      (e) => e,
    );
    expect(openEnded?.error?.code, "a 600-block range up to latest").to.be.oneOf(RANGE_CODES);
    expect(await provider.getLogs({ fromBlock: head - 499, toBlock: head })).to.be.an("array");
    expect(await provider.getLogs({ fromBlock: head - 499 })).to.be.an("array");
    const early = (await chain.provider.getBlock(1))!.hash!;
    expect(await provider.getLogs({ blockHash: early })).to.be.an("array");

    // Refusals rotate among the formats, so that a client that parses only one of them is caught out.
    const errors: { code: number; message: string }[] = [];
    for (let i = 0; i < 16; i++) {
      const from = head - 700 + i;
      const { body } = await post(p.url, call("eth_getLogs", [{ fromBlock: hex(from), toBlock: "latest" }], i));
      expect(body.id).to.equal(i);
      errors.push(body.error);
      if (body.error.code === -32600)
        expect(body.error.message).to.equal(
          "You can make eth_getLogs requests with up to a 500 block range. Based on your parameters, this block " +
            `range should work: [${hex(from)}, ${hex(from + 499)}]`,
        );
    }
    expect(new Set(errors.map((e) => e.code)).size).to.be.greaterThan(2);
    expect(errors.map((e) => e.message)).to.include.members(["eth_getLogs is limited to a 500 range"]);
    expect(p.stats().rangeRefusals).to.equal(2 + 16);
  });

  it("refuses answers with more logs than the result cap, suggesting a narrower range that passes", async function () {
    const p = await proxy({ maxResults: 3 });
    const provider = through(p);
    // The devnet minted tokens to nine accounts: a Transfer log each.
    const transfers = await chain.provider.getLogs({ address: devnet.deployment.token, fromBlock: 0 });
    expect(transfers.length).to.be.greaterThan(3);
    const fromBlock = transfers[0].blockNumber;
    const toBlock = transfers.at(-1)!.blockNumber;

    const refused = await provider.getLogs({ address: devnet.deployment.token, fromBlock, toBlock }).then(
      () => undefined,
      (e) => e,
    );
    expect(refused?.error?.code, "more than 3 logs").to.be.oneOf([-32005, -32602]);
    const suggested = /\[(0x[0-9a-f]+), (0x[0-9a-f]+)\]/.exec(refused.error.message)!;
    expect(Number(suggested[1])).to.equal(fromBlock);
    const narrower = await provider.getLogs({
      address: devnet.deployment.token,
      fromBlock: Number(suggested[1]),
      toBlock: Number(suggested[2]),
    });
    expect(narrower.length).to.be.within(1, 3);
    expect(narrower[0].transactionHash).to.equal(transfers[0].transactionHash);

    const { body } = await post(
      p.url,
      call("eth_getLogs", [{ address: devnet.deployment.token, fromBlock: hex(fromBlock), toBlock: hex(toBlock) }]),
    );
    expect(body.error.message).to.match(/more than 3 results|cap of 3 logs/);
    expect(p.stats().resultRefusals).to.equal(2);
  });

  it("answers HTTP 429 with Retry-After: 1, which ethers retries at once, up to 12 attempts", async function () {
    const p = await proxy({ rateLimitRate: 1 });
    const raw = await post(p.url, call("eth_blockNumber", [], 7));
    expect(raw.status).to.equal(429);
    expect(raw.headers.get("retry-after")).to.equal("1");
    expect(raw.body).to.deep.equal({ jsonrpc: "2.0", error: { code: -32005, message: "Too Many Requests" }, id: 7 });

    const provider = throughKnownNetwork(p);
    const started = Date.now();
    const error = await provider.getBlockNumber().then(
      () => undefined,
      (e) => e,
    );
    expect(error?.code).to.equal("SERVER_ERROR");
    expect(error.message).to.contain("exceeded maximum retry limit");
    expect(Date.now() - started).to.be.lessThan(2000);
    expect(p.stats().rateLimited).to.equal(1 + 12);
    expect(p.stats().forwarded).to.equal(0);

    // Half the requests limited: ethers' own retries get every read through.
    const half = await proxy({ rateLimitRate: 0.5, seed: 3 });
    const patient = through(half);
    const head = await realHead();
    for (let i = 0; i < 10; i++) expect(await patient.getBlockNumber()).to.equal(head);
    expect(half.stats().rateLimited).to.be.greaterThan(3);
  });

  it("drops connections: reads before or after forwarding, a transaction only before, never hiding that it was sent", async function () {
    const p = await proxy({ dropRate: 1 });
    for (let i = 0; i < 12; i++) {
      const failed = await post(p.url, call("eth_blockNumber")).then(
        () => undefined,
        (e) => e,
      );
      expect(failed, "a dropped read").to.be.instanceOf(TypeError);
    }
    let stats = p.stats();
    expect(stats.dropped).to.equal(12);
    expect(stats.droppedAfterForwarding).to.be.within(1, 11);
    expect(stats.forwardedByMethod.eth_blockNumber).to.equal(stats.droppedAfterForwarding);
    // ethers does not retry a dropped connection: the call fails.
    const error = await throughKnownNetwork(p)
      .getBlockNumber()
      .then(
        () => undefined,
        (e) => e,
      );
    expect(error?.code, "ethers, through a dropped connection").to.equal("ECONNRESET");

    const sender = chain.accounts[5];
    const nonce = await chain.provider.getTransactionCount(sender.address);
    const signed = await sender.signTransaction(await sender.populateTransaction({ to: sender.address, value: 1n }));
    const droppedAfterReads = p.stats().droppedAfterForwarding;
    for (let i = 0; i < 12; i++) {
      const single = await post(p.url, call("eth_sendRawTransaction", [signed])).catch((e) => e);
      expect(single).to.be.instanceOf(TypeError);
      const batch = await post(p.url, [call("eth_blockNumber"), call("eth_sendRawTransaction", [signed], 2)]).catch(
        (e) => e,
      );
      expect(batch).to.be.instanceOf(TypeError);
    }
    stats = p.stats();
    expect(stats.byMethod.eth_sendRawTransaction).to.equal(24);
    expect(stats.forwardedByMethod.eth_sendRawTransaction).to.equal(undefined);
    expect(stats.droppedAfterForwarding).to.equal(droppedAfterReads);
    expect(await chain.provider.getTransactionCount(sender.address)).to.equal(nonce);
    // The transaction was a good one: sent to the node itself, it is mined.
    await (await chain.provider.broadcastTransaction(signed)).wait();
    expect(await chain.provider.getTransactionCount(sender.address)).to.equal(nonce + 1);
  });

  it("now and then reports a head 1..staleBlocks behind the real one, never ahead", async function () {
    const p = await proxy({ staleHeadRate: 1, staleBlocks: 3 });
    const head = await realHead();
    const seen = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const { body } = await post(p.url, call("eth_blockNumber", [], i));
      const n = Number(body.result);
      expect(n).to.be.within(head - 3, head - 1);
      seen.add(n);
    }
    expect(seen.size).to.be.greaterThan(1);
    const block = (await through(p).getBlock("latest"))!;
    expect(block.number).to.be.within(head - 3, head - 1);
    expect(block.hash).to.equal((await chain.provider.getBlock(block.number))!.hash);
    expect(p.stats().staleHeads).to.equal(21);
    expect(await realHead()).to.equal(head);
  });

  it("adds latency within latencyMs", async function () {
    const p = await proxy({ latencyMs: [60, 90] });
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      await post(p.url, call("eth_chainId"));
      expect(performance.now() - started).to.be.at.least(59);
    }
  });

  it("gives the same faults for the same seed, other faults for another", async function () {
    const head = await realHead();
    async function run(seed: number): Promise<string[]> {
      const p = await proxy({ seed, rateLimitRate: 0.2, dropRate: 0.2, staleHeadRate: 0.5, staleBlocks: 3 });
      const outcomes: string[] = [];
      for (let i = 0; i < 40; i++) {
        const raw = await post(p.url, call("eth_blockNumber")).catch(() => undefined);
        outcomes.push(
          raw === undefined ? "dropped" : raw.status === 429 ? "429" : `behind ${head - Number(raw.body.result)}`,
        );
      }
      return outcomes;
    }
    const first = await run(7);
    expect(await run(7)).to.deep.equal(first);
    expect(await run(8)).to.not.deep.equal(first);
    for (const outcome of ["dropped", "429", "behind 0"]) expect(first).to.include(outcome);
    expect(first.some((o) => /^behind [123]$/.test(o))).to.equal(true);
    expect(first.every((o) => !/^behind -/.test(o))).to.equal(true);
  });
});
