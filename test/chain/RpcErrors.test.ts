/**
 * What a provider's failure means (common/chain/rpcErrors.ts), from what ethers v6 really throws: a tiny HTTP server
 * on loopback answers a JsonRpcProvider's request the way each public provider does (Alchemy, Infura, QuickNode,
 * Ankr, geth and its forks, erigon and reth, dRPC, Cloudflare-style load balancers: their real texts, codes and
 * HTTP statuses), or times out, or drops the connection; the classifier gets the error ethers threw, not one made
 * by hand. Range refusals say what they cap (blocks or results) and what fits; rate limits, server errors, timeouts,
 * lagging nodes and dropped connections are passing; a wrong request is not.
 */
import { expect } from "chai";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { JsonRpcProvider } from "ethers";
import { classifyRpcFailure, type RpcFailure } from "../../common/chain/rpcErrors.ts";
import { readerProvider } from "../helpers/readerProvider.ts";

type Answer = (req: IncomingMessage, res: ServerResponse, id: unknown) => void;

/** A JSON-RPC error answer, with the HTTP status the provider sends it with. */
const rpcError =
  (error: { code: number; message: string; data?: unknown }, status = 200, headers: Record<string, string> = {}) =>
  (_req: IncomingMessage, res: ServerResponse, id: unknown) => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify({ jsonrpc: "2.0", id, error }));
  };

/** A page a load balancer answers with instead of JSON-RPC. */
const page =
  (status: number, body: string, type = "text/html") =>
  (_req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(status, { "content-type": type });
    res.end(body);
  };

const cloudflarePage = (status: number, title: string) =>
  page(
    status,
    `<!DOCTYPE html><html><head><title>${title}</title></head>` +
      `<body><center><h1>${title}</h1></center><hr><center>cloudflare</center></body></html>`,
  );

interface Case {
  name: string;
  answer: Answer;
  expected: Partial<RpcFailure> & { kind: RpcFailure["kind"] };
  /** The message the failure carries: the provider's own words when it sent any. */
  message?: string | RegExp;
}

const ALCHEMY_RESULTS =
  "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the " +
  "response size, or you can request any block range with a cap of 10K logs in the response. Based on your " +
  "parameters, this block range should work: [0x112a880, 0x112a8c2]";
const ALCHEMY_FREE =
  "Under the Free tier plan, you can make eth_getLogs requests with up to a 10 block range. Based on your " +
  "parameters, this block range should work: [0x112a880, 0x112a889]. Upgrade to PAYG for expanded block range.";
const ALCHEMY_429 =
  "Your app has exceeded its compute units per second capacity. If you have retries enabled, you can safely ignore " +
  "this message. If not, check out https://docs.alchemy.com/reference/throughput";
const QUICKNODE_429 =
  "15/second request limit reached - reduce calls per second or upgrade your account at quicknode.com";

const CASES: Case[] = [
  // Alchemy
  {
    name: "Alchemy: log response size exceeded, with the range that should work",
    answer: rpcError({ code: -32602, message: ALCHEMY_RESULTS }),
    expected: { kind: "tooLarge", limit: "results", suggestedTo: 0x112a8c2, maxRange: 2000 },
    message: ALCHEMY_RESULTS,
  },
  {
    name: "Alchemy free tier: a 10 block range",
    answer: rpcError({ code: -32600, message: ALCHEMY_FREE }, 400),
    expected: { kind: "tooLarge", limit: "blocks", suggestedTo: 0x112a889, maxRange: 10 },
    message: ALCHEMY_FREE,
  },
  {
    name: "Alchemy: HTTP 429, compute units per second",
    answer: rpcError({ code: 429, message: ALCHEMY_429 }, 429),
    expected: { kind: "rateLimited" },
    message: ALCHEMY_429,
  },
  // Infura
  {
    name: "Infura: more than 10000 results, try with this block range",
    answer: rpcError({
      code: -32005,
      message: "query returned more than 10000 results. Try with this block range [0x1e8480, 0x1e84c7].",
      data: { from: "0x1e8480", limit: 10000, to: "0x1e84c7" },
    }),
    expected: { kind: "tooLarge", limit: "results", suggestedTo: 0x1e84c7 },
    message: /^query returned more than 10000 results/,
  },
  {
    name: "Infura: a block range over its limit",
    answer: rpcError({ code: -32602, message: "range 1000000 exceeds limit of 10000" }),
    expected: { kind: "tooLarge", limit: "blocks", maxRange: 10_000 },
  },
  {
    name: "Infura: query timeout exceeded (a range too expensive to scan)",
    answer: rpcError({ code: -32005, message: "query timeout exceeded" }),
    expected: { kind: "tooLarge", limit: "results" },
  },
  {
    name: "Infura: HTTP 429, project ID request rate exceeded",
    answer: rpcError(
      {
        code: -32005,
        message: "project ID request rate exceeded",
        data: { see: "https://infura.io/dashboard", current_rps: 13.333, allowed_rps: 10.0, backoff_seconds: 30.0 },
      },
      429,
    ),
    expected: { kind: "rateLimited" },
    message: "project ID request rate exceeded",
  },
  {
    name: "Infura: daily request count exceeded (HTTP 200)",
    answer: rpcError({ code: -32005, message: "daily request count exceeded, request rate limited" }),
    expected: { kind: "rateLimited" },
  },
  {
    name: "Infura: HTTP 401, invalid project id",
    answer: rpcError({ code: -32002, message: "invalid project id" }, 401),
    expected: { kind: "other" },
  },
  // QuickNode
  {
    name: "QuickNode: HTTP 413, limited to a 10,000 range",
    answer: rpcError({ code: -32614, message: "eth_getLogs is limited to a 10,000 range" }, 413),
    expected: { kind: "tooLarge", limit: "blocks", maxRange: 10_000 },
    message: "eth_getLogs is limited to a 10,000 range",
  },
  {
    name: "QuickNode: HTTP 429, request limit reached",
    answer: rpcError({ code: -32007, message: QUICKNODE_429 }, 429),
    expected: { kind: "rateLimited" },
    message: QUICKNODE_429,
  },
  // Ankr
  {
    name: "Ankr: block range is too wide",
    answer: rpcError({ code: -32600, message: "block range is too wide" }),
    expected: { kind: "tooLarge", limit: "blocks" },
  },
  {
    name: "Ankr: query exceeds max results",
    answer: rpcError({ code: -32602, message: "query exceeds max results 10000" }),
    expected: { kind: "tooLarge", limit: "results" },
  },
  {
    name: "Ankr: HTTP 429, call rate limit exhausted",
    answer: rpcError(
      { code: -32090, message: "Too many requests, reason: call rate limit exhausted, retry in 10s" },
      429,
    ),
    expected: { kind: "rateLimited" },
  },
  // geth and its forks, erigon, reth
  {
    name: "geth: query returned more than 10000 results",
    answer: rpcError({ code: -32005, message: "query returned more than 10000 results" }),
    expected: { kind: "tooLarge", limit: "results" },
  },
  {
    name: "geth forks (BSC, publicnode): exceed maximum block range",
    answer: rpcError({ code: -32000, message: "exceed maximum block range: 5000" }),
    expected: { kind: "tooLarge", limit: "blocks", maxRange: 5000 },
  },
  {
    name: "erigon, reth: query exceeds max block range",
    answer: rpcError({ code: -32602, message: "query exceeds max block range 100000" }),
    expected: { kind: "tooLarge", limit: "blocks", maxRange: 100_000 },
  },
  {
    name: "1rpc: limited to 0 - 50 blocks range",
    answer: rpcError({ code: -32602, message: "eth_getLogs is limited to 0 - 50 blocks range" }),
    expected: { kind: "tooLarge", limit: "blocks", maxRange: 50 },
  },
  {
    name: "dRPC: ranges over 10000 blocks are not supported on freetier",
    answer: rpcError({ code: 35, message: "ranges over 10000 blocks are not supported on freetier" }),
    expected: { kind: "tooLarge", limit: "blocks", maxRange: 10_000 },
  },
  {
    name: "geth behind a load balancer: a lagging node's 'block range extends beyond current head block'",
    answer: rpcError({ code: -32602, message: "block range extends beyond current head block" }),
    expected: { kind: "transient", timeout: false },
  },
  {
    name: "geth: header not found",
    answer: rpcError({ code: -32000, message: "header not found" }),
    expected: { kind: "transient", timeout: false },
  },
  {
    name: "geth: invalid block range params (a wrong request)",
    answer: rpcError({ code: -32602, message: "invalid block range params" }),
    expected: { kind: "other" },
  },
  {
    name: "a wrong argument",
    answer: rpcError({ code: -32602, message: "invalid argument 0: hex string without 0x prefix" }),
    expected: { kind: "other" },
    message: "invalid argument 0: hex string without 0x prefix",
  },
  // Load balancers and gateways
  {
    name: "nginx: 503 Service Temporarily Unavailable page",
    answer: page(503, "<html><head><title>503 Service Temporarily Unavailable</title></head><body></body></html>"),
    expected: { kind: "transient", timeout: false },
  },
  // Cloudflare's pages (its own 52x, and a gateway's 502 and 504): a timeout when they say so.
  ...(
    [
      [502, "502 Bad Gateway", false],
      [504, "504 Gateway Time-out", true],
      [520, "example.com | 520: Web server is returning an unknown error", false],
      [522, "example.com | 522: Connection timed out", true],
      [524, "example.com | 524: A timeout occurred", true],
    ] as const
  ).map(([status, title, timeout]) => ({
    name: `Cloudflare: ${status} page "${title}"`,
    answer: cloudflarePage(status, title),
    expected: { kind: "transient" as const, timeout },
  })),
  {
    name: "a gateway's 429 page, no JSON-RPC in it",
    answer: page(429, "<html><head><title>429 Too Many Requests</title></head><body></body></html>"),
    expected: { kind: "rateLimited" },
  },
  {
    name: "a proxy's error page answered with 200 where JSON was expected",
    answer: page(200, "<html><body>Upstream error</body></html>", "application/json"),
    expected: { kind: "transient" },
  },
  {
    name: "a dropped connection (socket destroyed, no answer)",
    answer: (req) => req.socket.destroy(),
    expected: { kind: "transient", timeout: false },
  },
];

describe("rpcErrors: providers' failures, as ethers v6 throws them, classified", function () {
  let server: Server;
  let url: string;
  let answer: Answer = () => {};
  let requests = 0;
  const providers: JsonRpcProvider[] = [];

  before(async function () {
    server = createServer((req, res) => {
      requests++;
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        const parsed = JSON.parse(body) as { id?: unknown };
        answer(req, res, parsed.id ?? null);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async function () {
    for (const p of providers) p.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** An ethers provider to the server (or `at`), ethers' own 429 retries off unless asked for. */
  function provider(o: { timeoutMs?: number; ethers429Retries?: boolean; at?: string } = {}): JsonRpcProvider {
    const p = readerProvider(o.at ?? url, { timeoutMs: 5_000, ...o });
    providers.push(p);
    return p;
  }

  /** What ethers throws for an eth_getLogs the server answers with `a`. */
  async function thrown(a: Answer, p = provider()): Promise<unknown> {
    answer = a;
    try {
      await p.send("eth_getLogs", [{ fromBlock: "0x1e8480", toBlock: "0x2dc6c0" }]);
    } catch (e) {
      return e;
    }
    throw new Error("the request did not fail");
  }

  for (const c of CASES)
    it(c.name, async function () {
      const failure = classifyRpcFailure(await thrown(c.answer));
      expect(failure).to.include(c.expected);
      if (c.expected.kind === "tooLarge") {
        // Only what the provider said: no suggestion or maximum made up.
        if (!("suggestedTo" in c.expected)) expect(failure).not.to.have.property("suggestedTo");
        if (!("maxRange" in c.expected)) expect(failure).not.to.have.property("maxRange");
      }
      if (typeof c.message === "string") expect(failure.message).to.equal(c.message);
      else if (c.message) expect(failure.message).to.match(c.message);
      // Never ethers' dump of the whole request and answer.
      expect(failure.message).not.to.match(/requestUrl|payload=|version=6/);
    });

  it("HTTP 429 after ethers' own retries (12 attempts, Retry-After read as ms) is still a rate limit", async function () {
    const before = requests;
    const e = await thrown(
      rpcError({ code: -32005, message: "Too Many Requests" }, 429, { "retry-after": "1" }),
      provider({ ethers429Retries: true }),
    );
    expect(requests - before).to.equal(12);
    expect((e as { code?: string }).code).to.equal("SERVER_ERROR");
    expect(classifyRpcFailure(e)).to.deep.equal({ kind: "rateLimited", message: "Too Many Requests" });
  });

  it("a request the server never answers: ethers' TIMEOUT is a passing failure, marked as a timeout", async function () {
    const e = await thrown(() => {}, provider({ timeoutMs: 200 }));
    expect((e as { code?: string }).code).to.equal("TIMEOUT");
    expect(classifyRpcFailure(e)).to.include({ kind: "transient", timeout: true });
  });

  it("a refused connection (nothing listens on the port) is passing", async function () {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const e = await thrown(() => {}, provider({ at: `http://127.0.0.1:${port}` }));
    expect(String((e as Error).message)).to.match(/ECONNREFUSED/);
    expect(classifyRpcFailure(e)).to.include({ kind: "transient", timeout: false });
  });

  it("Node's fetch: a dropped connection ('fetch failed', its cause underneath) is passing", async function () {
    answer = (req) => req.socket.destroy();
    const e = await fetch(url, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1 }) }).catch((x) => x);
    expect(e).to.be.instanceOf(TypeError);
    expect(classifyRpcFailure(e)).to.include({ kind: "transient" });
  });

  it("errors that are not a provider's: a plain message or a non-error are 'other'", function () {
    expect(classifyRpcFailure(new Error("execution reverted"))).to.deep.equal({
      kind: "other",
      message: "execution reverted",
    });
    expect(classifyRpcFailure("boom")).to.include({ kind: "other" });
    expect(classifyRpcFailure(undefined)).to.include({ kind: "other" });
  });
});
