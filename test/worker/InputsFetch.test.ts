/**
 * The worker's fetch of a job's inputs URI, which the job's poster chooses: only public addresses unless the config
 * allows more, judged after resolution and on every redirect before any connection, pinned to the judged address,
 * the body cut off at the size limit, one deadline for the whole fetch, and errors that say whether to retry.
 *
 * No test here sends traffic anywhere but 127.0.0.1: hostnames are resolved by an injected resolver, and every
 * socket connect is spied on (a connect to anything else fails the test before it leaves the machine).
 */
import { expect } from "chai";
import { once } from "node:events";
import http from "node:http";
import net, { isIP, type LookupFunction } from "node:net";
import { FatalError, RetryableError } from "../../common/errors.ts";
import { isLoopbackURL, judgeAddress } from "../../common/inputs/addressPolicy.ts";
import { fetchInputs, InputsFetchError, type InputsFetchOptions, type Resolver } from "../../common/inputs/fetch.ts";
import type { JobView } from "../../common/market/jobBook.ts";
import type { ServedCircuit } from "../../prover-worker/src/config.ts";
import { preflight } from "../../prover-worker/src/pipeline/preflight.ts";
import type { ProverPool } from "../../prover-worker/src/prover/pool.ts";

const PUBLIC_ONLY = { allowLoopback: false, allowPrivateNetworks: false };
const DOC = '{"a":"1"}';

/** Every socket connect this process makes while a test runs: its host and port. */
const connects: { host: unknown; port: unknown }[] = [];
const realConnect = net.Socket.prototype.connect;

/** The only address a test may connect to: its own server's. */
const LOCAL = "127.0.0.1";

/**
 * Stands in for net.Socket's connect while these tests run: records each connect, and fails one bound anywhere but
 * 127.0.0.1 before a packet leaves (a literal host at once; a hostname when its pinned `lookup` answers).
 */
function guardedConnect(this: net.Socket, ...args: unknown[]): net.Socket {
  // net.connect passes its normalized [options, callback] as one array.
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const options = (typeof first === "object" && first !== null ? first : { port: first }) as {
    host?: unknown;
    port?: unknown;
    lookup?: LookupFunction;
  };
  connects.push({ host: options.host, port: options.port });
  const host = options.host;
  if (typeof host === "string" && isIP(host) !== 0 && host !== LOCAL)
    throw new Error(`test tried to connect to ${host}`);
  if (typeof host === "string" && isIP(host) === 0) {
    const lookup = options.lookup;
    if (lookup === undefined) throw new Error(`test tried to resolve ${host} through the system resolver`);
    options.lookup = (hostname, lookupOptions, callback) =>
      lookup(hostname, lookupOptions, (error, address, family) => {
        const answered = Array.isArray(address) ? address.map((a) => a.address) : [address];
        const elsewhere = answered.find((a) => a !== LOCAL);
        if (error === null && elsewhere !== undefined) callback(new Error(`test tried to connect to ${elsewhere}`), "");
        else callback(error, address, family);
      });
  }
  return (realConnect as (...a: unknown[]) => net.Socket).apply(this, args);
}

/** A resolver that answers from a table and records what it was asked. */
function resolverOf(table: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = async (hostname: string) => {
    asked.push(hostname);
    const addresses = table[hostname];
    if (addresses === undefined)
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return addresses.map((address) => ({ address, family: isIP(address) }));
  };
  return Object.assign(resolve, { asked });
}

/** Rejects unless `promise` fails with an InputsFetchError; returns it. */
async function fetchError(promise: Promise<unknown>): Promise<InputsFetchError> {
  try {
    await promise;
  } catch (e) {
    expect(e).to.be.instanceOf(InputsFetchError);
    return e as InputsFetchError;
  }
  throw new Error("the fetch succeeded; expected it to fail");
}

describe("worker: fetching a job's inputs URI", function () {
  let server: http.Server;
  let base: string;
  let port: number;
  /** The paths the local server was asked for, in order. */
  let requests: { url: string; host: string | undefined }[];
  let handle: (req: http.IncomingMessage, res: http.ServerResponse) => void;

  const options = (o: Partial<InputsFetchOptions> = {}): InputsFetchOptions => ({
    maxBytes: 1_000,
    timeoutMs: 5_000,
    allowLoopback: true,
    allowPrivateNetworks: false,
    ...o,
  });

  before(async function () {
    net.Socket.prototype.connect = guardedConnect;
    server = http.createServer((req, res) => {
      requests.push({ url: req.url!, host: req.headers.host });
      handle(req, res);
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    port = (server.address() as net.AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  after(async function () {
    net.Socket.prototype.connect = realConnect;
    server.closeAllConnections();
    server.close();
  });

  beforeEach(function () {
    connects.length = 0;
    requests = [];
    handle = (_req, res) => res.end(DOC);
  });

  describe("refused before any connection", function () {
    for (const [address, description, remedy] of [
      ["10.1.2.3", "a private-network address", "set inputsFetch.allowPrivateNetworks"],
      ["169.254.169.254", "a cloud metadata service address", "no setting allows it"],
      ["::1", "a loopback address", "set inputsFetch.allowLoopback"],
      ["::ffff:127.0.0.1", "a loopback address (127.0.0.1 inside an IPv6 address)", "set inputsFetch.allowLoopback"],
      ["fd00::1", "a private-network address", "set inputsFetch.allowPrivateNetworks"],
      ["100.64.0.1", "a carrier-grade NAT (shared) address", "set inputsFetch.allowPrivateNetworks"],
      ["0.0.0.0", "an unspecified (this-network) address", "no setting allows it"],
    ]) {
      it(`a hostname resolving to ${address}: ${description}`, async function () {
        const resolve = resolverOf({ "inputs.test": [address] });
        const uri = "http://inputs.test/doc.json";
        const error = await fetchError(fetchInputs(uri, options({ allowLoopback: false, resolve })));
        expect(error.message).to.equal(
          `inputs URI ${uri} resolves to ${address}, ${description}: refused (a job's poster chooses this URI); ` +
            `${remedy}${remedy.startsWith("set") ? " in the worker config to allow it" : ""}`,
        );
        expect(error.retryable).to.equal(false);
        expect(resolve.asked).to.deep.equal(["inputs.test"]);
        expect(connects).to.deep.equal([]);
      });
    }

    it("a hostname with one public and one private address (the connection could go to either)", async function () {
      const resolve = resolverOf({ "inputs.test": ["93.184.216.34", "10.0.0.9"] });
      const error = await fetchError(fetchInputs("http://inputs.test/x", options({ resolve })));
      expect(error.message).to.contain("resolves to 10.0.0.9, a private-network address: refused");
      expect(connects).to.deep.equal([]);
    });

    it("the metadata and link-local addresses even when private networks are allowed", async function () {
      const resolve = resolverOf({ "meta.test": ["169.254.169.254"], "ll.test": ["fe80::1"] });
      const allowAll = options({ allowPrivateNetworks: true, resolve });
      expect((await fetchError(fetchInputs("http://meta.test/", allowAll))).message).to.contain(
        "a cloud metadata service address: refused (a job's poster chooses this URI); no setting allows it",
      );
      expect((await fetchError(fetchInputs("http://ll.test/", allowAll))).message).to.contain("a link-local address");
      expect(connects).to.deep.equal([]);
    });

    it("literal IP addresses in the URI, in every spelling the URL parser accepts", async function () {
      const resolve = resolverOf({});
      for (const [uri, shown, description] of [
        ["http://10.0.0.5/x", "10.0.0.5", "a private-network address"],
        ["http://169.254.169.254/latest/meta-data/", "169.254.169.254", "a cloud metadata service address"],
        ["http://127.0.0.1:9/x", "127.0.0.1", "a loopback address"],
        ["http://0x7f.1/x", "127.0.0.1", "a loopback address"],
        ["http://2130706433/x", "127.0.0.1", "a loopback address"],
        ["http://[::1]/x", "::1", "a loopback address"],
        ["http://[::ffff:127.0.0.1]/x", "::ffff:7f00:1", "a loopback address (127.0.0.1 inside an IPv6 address)"],
        ["http://[::ffff:a9fe:a9fe]/x", "::ffff:a9fe:a9fe", "a cloud metadata service address (169.254.169.254"],
        ["http://[fd00::1]/x", "fd00::1", "a private-network address"],
        ["http://[fe80::1]/x", "fe80::1", "a link-local address"],
        ["http://0.0.0.0/x", "0.0.0.0", "an unspecified (this-network) address"],
        ["http://[::]/x", "::", "an unspecified (this-network) address"],
        ["https://224.0.0.1/x", "224.0.0.1", "a multicast address"],
        ["http://240.0.0.1/x", "240.0.0.1", "a reserved address"],
      ]) {
        const error = await fetchError(fetchInputs(uri, options({ allowLoopback: false, resolve })));
        expect(error.message, uri).to.contain(`inputs URI ${uri} names ${shown}, ${description}`);
        expect(error.retryable, uri).to.equal(false);
      }
      expect(resolve.asked).to.deep.equal([]);
      expect(connects).to.deep.equal([]);
    });

    it("the local server's own URL unless loopback is allowed: it sees no request", async function () {
      const error = await fetchError(fetchInputs(`${base}/doc`, options({ allowLoopback: false })));
      expect(error.message).to.contain("set inputsFetch.allowLoopback in the worker config to allow it");
      expect(requests).to.deep.equal([]);
      expect(connects).to.deep.equal([]);
    });
  });

  describe("allowed addresses", function () {
    it("loopback when the config allows it: the exact bytes", async function () {
      const bytes = await fetchInputs(`${base}/doc`, options());
      expect(new TextDecoder().decode(bytes)).to.equal(DOC);
      expect(requests.map((r) => r.url)).to.deep.equal(["/doc"]);
    });

    it("connects to the address it judged: one resolution per hop, none behind its back (no DNS rebinding)", async function () {
      // A rebinding resolver: loopback (allowed) the first time, a private address afterwards.
      let answers = 0;
      const resolve: Resolver = async () => [{ address: answers++ === 0 ? "127.0.0.1" : "10.0.0.1", family: 4 }];
      const bytes = await fetchInputs(`http://inputs.test:${port}/doc`, options({ resolve }));
      expect(new TextDecoder().decode(bytes)).to.equal(DOC);
      expect(answers).to.equal(1);
      expect(requests).to.deep.equal([{ url: "/doc", host: `inputs.test:${port}` }]);
    });

    it("judges public addresses (no connection made)", function () {
      for (const address of ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"]) {
        const verdict = judgeAddress(address, PUBLIC_ONLY);
        expect([verdict.allowed, verdict.description], address).to.deep.equal([
          true,
          address.startsWith("64:ff9b") ? "a public address (8.8.8.8 inside an IPv6 address)" : "a public address",
        ]);
      }
      for (const address of ["64:ff9b::a00:1", "2002:7f00:1::", "2001:db8::1", "::127.0.0.1", "ff02::1", "4000::1"])
        expect(judgeAddress(address, PUBLIC_ONLY).allowed, address).to.equal(false);
      expect(judgeAddress("192.168.1.1", { allowLoopback: false, allowPrivateNetworks: true }).allowed).to.equal(true);
      expect(judgeAddress("not an address", PUBLIC_ONLY).allowed).to.equal(false);
    });

    it("a local chain's RPC URL is on loopback (init allows loopback for it)", function () {
      for (const url of ["http://127.0.0.1:8545", "http://localhost:8545", "http://[::1]:8545", "ws://127.0.0.2:8546"])
        expect(isLoopbackURL(url), url).to.equal(true);
      for (const url of ["https://rpc.example.org", "http://10.0.0.1:8545", "http://[fd00::1]:8545", "nonsense"])
        expect(isLoopbackURL(url), url).to.equal(false);
    });
  });

  describe("redirects, followed by hand and judged at every hop", function () {
    it("follows a redirect between allowed addresses", async function () {
      handle = (req, res) => {
        if (req.url === "/old") res.writeHead(301, { location: "/doc" }).end();
        else res.end(DOC);
      };
      const bytes = await fetchInputs(`${base}/old`, options());
      expect(new TextDecoder().decode(bytes)).to.equal(DOC);
      expect(requests.map((r) => r.url)).to.deep.equal(["/old", "/doc"]);
    });

    it("refuses a redirect to a hostname that resolves to a private address: no connection to it", async function () {
      handle = (_req, res) => res.writeHead(302, { location: "http://internal.test/secret" }).end();
      const resolve = resolverOf({ "internal.test": ["10.0.0.7"] });
      const error = await fetchError(fetchInputs(`${base}/hop`, options({ resolve })));
      expect(error.message).to.equal(
        `inputs URI ${base}/hop redirects to http://internal.test/secret, which resolves to 10.0.0.7, a ` +
          "private-network address: refused (a job's poster chooses this URI); set inputsFetch.allowPrivateNetworks " +
          "in the worker config to allow it",
      );
      expect(error.retryable).to.equal(false);
      expect(resolve.asked).to.deep.equal(["internal.test"]);
      expect(connects.map((c) => c.port)).to.deep.equal([port]);
    });

    it("refuses a redirect to the cloud metadata address and to a non-http scheme", async function () {
      handle = (_req, res) => res.writeHead(307, { location: "http://169.254.169.254/latest/meta-data/" }).end();
      const metadata = await fetchError(fetchInputs(`${base}/hop`, options()));
      expect(metadata.message).to.contain("which names 169.254.169.254, a cloud metadata service address: refused");
      handle = (_req, res) => res.writeHead(302, { location: "file:///etc/passwd" }).end();
      const file = await fetchError(fetchInputs(`${base}/hop`, options()));
      expect(file.message).to.contain("redirects to file:///etc/passwd: only http(s) is followed");
      expect(connects.map((c) => c.port)).to.deep.equal([port, port]);
    });

    it("stops after a few redirects", async function () {
      handle = (_req, res) => res.writeHead(302, { location: "/again" }).end();
      const error = await fetchError(fetchInputs(`${base}/loop`, options()));
      expect(error.message).to.equal(`inputs URI ${base}/loop redirects more than 5 times`);
      expect(error.retryable).to.equal(false);
      expect(requests).to.have.length(6);
    });
  });

  describe("size limit", function () {
    it("stops reading a body without Content-Length as soon as it passes the limit", async function () {
      let written = 0;
      let closed!: Promise<unknown>;
      handle = (_req, res) => {
        closed = once(res, "close");
        const chunk = Buffer.alloc(16 * 1024, "x");
        // Sends for as long as the connection lasts.
        const send = () => {
          while (!res.destroyed && res.write(chunk)) written += chunk.length;
          if (!res.destroyed) res.once("drain", send);
        };
        send();
      };
      const started = Date.now();
      const error = await fetchError(fetchInputs(`${base}/big`, options({ maxBytes: 64 * 1024 })));
      expect(error.message).to.match(
        new RegExp(`^inputs at ${base}/big passed \\d+ bytes \\(reading stopped there\\), over the 65536-byte limit$`),
      );
      expect(error.retryable).to.equal(false);
      expect(Date.now() - started).to.be.below(2_000);
      await closed;
      expect(written).to.be.below(16 * 1024 * 1024);
    });

    it("refuses a Content-Length over the limit before reading the body", async function () {
      let closed!: Promise<unknown>;
      handle = (_req, res) => {
        closed = once(res, "close");
        res.writeHead(200, { "content-length": "50000000" });
        res.write("{");
      };
      const error = await fetchError(fetchInputs(`${base}/declared`, options({ maxBytes: 1_000 })));
      expect(error.message).to.equal(
        `inputs at ${base}/declared are 50000000 bytes (Content-Length), over the 1000-byte limit`,
      );
      expect(error.retryable).to.equal(false);
      await closed;
    });
  });

  describe("failures to retry later, and final ones", function () {
    it("a server that never answers: a timeout, retryable", async function () {
      handle = () => {};
      const started = Date.now();
      const error = await fetchError(fetchInputs(`${base}/stall`, options({ timeoutMs: 300 })));
      expect(error.message).to.equal(
        `fetching ${base}/stall: no complete answer within 300 ms (inputsFetch.timeoutMs); will retry`,
      );
      expect(error.retryable).to.equal(true);
      expect(Date.now() - started).to.be.below(2_000);
    });

    it("one deadline for the whole fetch: a body that stalls, and slow redirects that add up", async function () {
      handle = (_req, res) => res.writeHead(200).write('{"a":');
      const body = await fetchError(fetchInputs(`${base}/half`, options({ timeoutMs: 300 })));
      expect([body.retryable, body.message]).to.deep.equal([
        true,
        `fetching ${base}/half: no complete answer within 300 ms (inputsFetch.timeoutMs); will retry`,
      ]);

      handle = (req, res) => setTimeout(() => res.writeHead(302, { location: `/${req.url!.length}` }).end(), 150);
      const hops = await fetchError(fetchInputs(`${base}/h`, options({ timeoutMs: 400 })));
      expect(hops.retryable).to.equal(true);
      expect(hops.message).to.contain("no complete answer within 400 ms");
      expect(requests.length).to.be.within(2, 4);
    });

    it("HTTP 503 and 429 are retryable, 404 is final", async function () {
      for (const [status, retryable] of [
        [503, true],
        [429, true],
        [404, false],
      ] as const) {
        handle = (_req, res) => res.writeHead(status).end();
        const error = await fetchError(fetchInputs(`${base}/s`, options()));
        expect(error.message).to.equal(`fetching ${base}/s: HTTP ${status}${retryable ? "; will retry" : ""}`);
        expect(error.retryable, String(status)).to.equal(retryable);
      }
    });

    it("a refused connection and a failed resolution are retryable", async function () {
      const closed = http.createServer().listen(0, "127.0.0.1");
      await once(closed, "listening");
      const freePort = (closed.address() as net.AddressInfo).port;
      closed.close();
      await once(closed, "close");
      const refused = await fetchError(fetchInputs(`http://127.0.0.1:${freePort}/`, options()));
      expect([refused.retryable, refused.message]).to.deep.equal([
        true,
        `fetching http://127.0.0.1:${freePort}/: connect ECONNREFUSED 127.0.0.1:${freePort} (ECONNREFUSED)`,
      ]);
      const unknown = await fetchError(fetchInputs("http://nowhere.test/", options({ resolve: resolverOf({}) })));
      expect([unknown.retryable, unknown.message]).to.deep.equal([
        true,
        "fetching http://nowhere.test/: getaddrinfo ENOTFOUND nowhere.test (ENOTFOUND)",
      ]);
    });
  });

  describe("data: URIs and other schemes", function () {
    it("reads data: URIs, base64 and URL-encoded, within the limit", async function () {
      const base64 = `data:application/json;base64,${Buffer.from(DOC).toString("base64")}`;
      expect(new TextDecoder().decode(await fetchInputs(base64, options()))).to.equal(DOC);
      const encoded = `data:application/json,${encodeURIComponent(DOC)}`;
      expect(new TextDecoder().decode(await fetchInputs(encoded, options()))).to.equal(DOC);
      const over = await fetchError(fetchInputs(encoded, options({ maxBytes: 3 })));
      expect([over.retryable, over.message]).to.deep.equal([false, "inputs are 9 bytes, over the 3-byte limit"]);
      expect((await fetchError(fetchInputs("data:nocomma", options()))).retryable).to.equal(false);
      expect(connects).to.deep.equal([]);
    });

    it("refuses other schemes", async function () {
      const error = await fetchError(fetchInputs("file:///etc/passwd", options()));
      expect([error.retryable, error.message]).to.deep.equal([
        false,
        "unsupported inputs URI scheme in file:///etc/passwd: use data: or http(s)",
      ]);
    });
  });

  describe("preflight", function () {
    const limits = (allowLoopback: boolean) => ({
      maxInputBytes: 1_000,
      inputsFetch: { allowLoopback, allowPrivateNetworks: false, timeoutMs: 2_000 },
    });
    const job = (inputsURI: string) => ({ inputsURI, inputsHash: `0x${"00".repeat(32)}` }) as JobView;
    // Preflight stops before the circuit and the prover pool when the inputs cannot be had.
    const circuit = {} as ServedCircuit;
    const pool = {} as ProverPool;

    it("skips a job whose inputs URI is refused (final: never claimed), with the config's remedy", async function () {
      const checked = await preflight(job("http://10.0.0.5/x"), circuit, pool, limits(false));
      if (checked.ok) throw new Error("preflight passed a refused URI");
      expect(checked.error).to.be.instanceOf(FatalError);
      expect(checked.error).to.include({ retryable: false, code: "INPUTS_REFUSED", stage: "preflight" });
      expect(checked.error.message).to.equal(
        "inputs unavailable: inputs URI http://10.0.0.5/x names 10.0.0.5, a private-network address: refused " +
          "(a job's poster chooses this URI); set inputsFetch.allowPrivateNetworks in the worker config to allow it",
      );
      expect(checked.error.cause).to.be.instanceOf(InputsFetchError);
      expect(connects).to.deep.equal([]);
    });

    it("tries again later after an HTTP 503; fetches from loopback when allowed", async function () {
      handle = (_req, res) => res.writeHead(503).end();
      const unavailable = await preflight(job(`${base}/x`), circuit, pool, limits(true));
      if (unavailable.ok) throw new Error("preflight passed unavailable inputs");
      expect(unavailable.error).to.be.instanceOf(RetryableError);
      expect(unavailable.error).to.include({ retryable: true, code: "INPUTS_UNAVAILABLE" });
      handle = (_req, res) => res.end(DOC);
      const fetched = await preflight(job(`${base}/x`), circuit, pool, limits(true));
      if (fetched.ok) throw new Error("preflight passed inputs with the wrong hash");
      expect(fetched.error).to.include({ retryable: false, code: "INPUTS_HASH_MISMATCH" });
      expect(fetched.error.message).to.match(/^inputs hash 0x[0-9a-f]{64} does not match the job's/);
    });
  });
});
