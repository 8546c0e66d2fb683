/**
 * The provider every component uses (common/chain/provider.ts), against a JSON-RPC server on loopback that fails the
 * way public providers do: it retries dropped connections, 5xx and 429s (waiting at least what Retry-After asks),
 * a bounded number of times; it sends a signed transaction again and takes "already known" for the success it is,
 * once the node confirms it has the transaction; it passes a JSON-RPC error through unretried; it sends a URL's
 * credentials as a header.
 */
import { expect } from "chai";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { keccak256 } from "ethers";
import { createProvider } from "../../common/chain/provider.ts";

interface Call {
  method: string;
  params: unknown[];
  id: number;
  authorization?: string;
}

describe("provider: retries, repeated transactions, credentials", function () {
  let server: http.Server;
  let url: string;
  let calls: Call[];
  /** Whether eth_chainId is a call the test answers (else the server answers it and does not count it). */
  let chainIdCounted = false;
  /** Answers each call (its number among all calls, from 0); "drop" destroys the socket without an answer. */
  let answer: (call: Call, n: number) => { status?: number; headers?: Record<string, string>; body?: unknown } | "drop";

  before(async function () {
    server = http.createServer(async (req, res) => {
      let text = "";
      for await (const chunk of req) text += chunk;
      const payload = JSON.parse(text);
      const replies = [];
      let status = 200;
      let headers: Record<string, string> = {};
      for (const element of (Array.isArray(payload) ? payload : [payload]) as Call[]) {
        // The network's id, which ethers asks once: always answered, not counted.
        if (element.method === "eth_chainId" && calls.every((c) => c.method !== "eth_chainId") && !chainIdCounted) {
          replies.push({ jsonrpc: "2.0", id: element.id, result: "0x7a69" });
          continue;
        }
        const call = { ...element, authorization: req.headers.authorization };
        calls.push(call);
        const reply = answer(call, calls.length - 1);
        if (reply === "drop") return req.socket.destroy();
        status = reply.status ?? status;
        headers = { ...headers, ...reply.headers };
        replies.push(reply.body ?? { jsonrpc: "2.0", id: call.id, result: "0x1" });
      }
      res.writeHead(status, { "content-type": "application/json", ...headers });
      const failed = status !== 200 ? replies.find((r) => typeof r === "string") : undefined;
      res.end(failed !== undefined ? String(failed) : JSON.stringify(Array.isArray(payload) ? replies : replies[0]));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(function () {
    calls = [];
  });

  after(function () {
    server.close();
  });

  const fast = { initialMs: 10, maxMs: 300 };

  it("retries a dropped connection and a 503, counting each retry, then answers", async function () {
    answer = (call, n) =>
      n === 0
        ? "drop"
        : n === 1
          ? { status: 503, body: "busy" }
          : { body: { jsonrpc: "2.0", id: call.id, result: "0x2a" } };
    const retries: string[] = [];
    const provider = createProvider(url, 1000, { ...fast, onRetry: (r) => retries.push(`${r.method}:${r.kind}`) });
    await provider.getNetwork();
    try {
      expect(await provider.send("eth_blockNumber", [])).to.equal("0x2a");
      expect(calls.map((c) => c.method)).to.deep.equal(["eth_blockNumber", "eth_blockNumber", "eth_blockNumber"]);
      // (ethers may send its eth_chainId in the same batch: the retry names every method of the request)
      expect(retries).to.have.length(2);
      for (const r of retries) expect(r).to.match(/eth_blockNumber:transient$/);
    } finally {
      provider.destroy();
    }
  });

  it("waits at least what a 429's Retry-After asks (up to its cap), and gives up after its attempts", async function () {
    answer = (call, n) =>
      n === 0
        ? { status: 429, headers: { "retry-after": "1" }, body: "slow down" }
        : { body: { jsonrpc: "2.0", id: call.id, result: "0x1" } };
    const provider = createProvider(url, 1000, fast);
    await provider.getNetwork();
    chainIdCounted = true;
    try {
      const started = Date.now();
      expect(await provider.send("eth_chainId", [])).to.equal("0x1");
      // Retry-After: 1 s, capped at maxMs (300 ms): never sooner than that.
      expect(Date.now() - started).to.be.at.least(290);

      calls = [];
      answer = () => ({ status: 429, body: "slow down" });
      const error = await provider.send("eth_chainId", []).then(
        () => null,
        (e: unknown) => e as { status?: number },
      );
      expect(error?.status).to.equal(429);
      expect(calls).to.have.length(5);
    } finally {
      chainIdCounted = false;
      provider.destroy();
    }
  });

  it("passes a JSON-RPC error through without retrying it", async function () {
    answer = (call) => ({
      body: { jsonrpc: "2.0", id: call.id, error: { code: -32602, message: "invalid argument 0" } },
    });
    const provider = createProvider(url, 1000, fast);
    try {
      const error = await provider.send("eth_getBalance", ["0x00", "latest"]).then(
        () => null,
        (e: Error) => e,
      );
      expect(String(error)).to.contain("invalid argument 0");
      expect(calls).to.have.length(1);
    } finally {
      provider.destroy();
    }
  });

  it("sends a transaction again after a dropped connection and takes 'already known' as sent, once the node has it", async function () {
    const raw = "0x02f86b827a6901843b9aca00843b9aca0082520894" + "11".repeat(20) + "8080c0";
    const hash = keccak256(raw);
    let known = true;
    answer = (call, n) => {
      if (call.method === "eth_sendRawTransaction")
        return n === 0
          ? "drop" // the first attempt reached the node; its answer was lost
          : { body: { jsonrpc: "2.0", id: call.id, error: { code: -32000, message: "already known" } } };
      return { body: { jsonrpc: "2.0", id: call.id, result: known ? { hash } : null } };
    };
    const provider = createProvider(url, 1000, fast);
    try {
      expect(await provider.send("eth_sendRawTransaction", [raw])).to.equal(hash);
      expect(calls.map((c) => c.method)).to.deep.equal([
        "eth_sendRawTransaction",
        "eth_sendRawTransaction",
        "eth_getTransactionByHash",
      ]);

      // A node that does not know the transaction: the refusal is the caller's to read.
      calls = [];
      known = false;
      const error = await provider.send("eth_sendRawTransaction", [raw]).then(
        () => null,
        (e: Error) => e,
      );
      expect(String(error)).to.contain("already known");
    } finally {
      provider.destroy();
    }
  });

  it("sends a URL's credentials as a basic Authorization header (fetch refuses them in the URL)", async function () {
    answer = (call) => ({ body: { jsonrpc: "2.0", id: call.id, result: "0x7" } });
    const withCredentials = url.replace("http://", "http://alice:s%40cret@");
    const provider = createProvider(withCredentials, 1000, fast);
    try {
      expect(await provider.send("eth_blockNumber", [])).to.equal("0x7");
      expect(calls[0].authorization).to.equal(`Basic ${Buffer.from("alice:s@cret").toString("base64")}`);
    } finally {
      provider.destroy();
    }
  });
});
