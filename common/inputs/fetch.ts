/**
 * Reads a job's inputs URI: `data:` (inline) or http(s). Whoever posts a job chooses the URI, so an http(s) fetch is
 * fenced: every hop's host is resolved once and judged (addressPolicy.ts) before any connection, the connection
 * goes to the judged address only (a second DNS answer cannot rebind it), redirects are followed by hand and each
 * one judged again, reading stops as soon as the body passes the size limit, and one deadline covers the whole
 * fetch. Errors say whether trying again later may help (`retryable`): a refused, malformed or oversized URI will
 * not change; a server that is down or slow may come back.
 */
import { lookup } from "node:dns/promises";
import http from "node:http";
import https from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { ProofMarketError } from "../errors.ts";
import { type AddressPermissions, judgeAddress } from "./addressPolicy.ts";

export class InputsFetchError extends ProofMarketError {
  /** True when the same URI may work later (timeout, connection failure, HTTP 5xx); false when the job is at fault. */
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super("inputs", retryable ? "INPUTS_FETCH_FAILED" : "INPUTS_URI_REFUSED", message);
    this.retryable = retryable;
  }
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Name resolution: every address a hostname has. */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface InputsFetchOptions extends AddressPermissions {
  maxBytes: number;
  /** For the whole fetch: resolution, every redirect and the body. */
  timeoutMs: number;
  /** The system resolver unless given (tests give their own). */
  resolve?: Resolver;
}

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Statuses saying the server may answer later; any other failure status is the URI's fault. */
const isRetryableStatus = (status: number) => status >= 500 || status === 408 || status === 429;

const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

/** Returns the exact bytes the URI names, at most `maxBytes` of them. */
export async function fetchInputs(uri: string, options: InputsFetchOptions): Promise<Uint8Array> {
  if (uri.startsWith("data:")) return decodeDataURI(uri, options.maxBytes);
  if (uri.startsWith("http://") || uri.startsWith("https://")) return fetchHttp(uri, options);
  throw new InputsFetchError(`unsupported inputs URI scheme in ${uri.slice(0, 40)}: use data: or http(s)`, false);
}

/** `data:` (inline JSON, base64 or URL-encoded). */
function decodeDataURI(uri: string, maxBytes: number): Uint8Array {
  const comma = uri.indexOf(",");
  if (comma < 0) throw new InputsFetchError(`malformed data: URI (no comma)`, false);
  const meta = uri.slice(5, comma);
  const payload = uri.slice(comma + 1);
  let bytes: Buffer;
  try {
    bytes = meta.endsWith(";base64")
      ? Buffer.from(payload, "base64")
      : Buffer.from(decodeURIComponent(payload), "utf8");
  } catch (e) {
    throw new InputsFetchError(`malformed data: URI: ${(e as Error).message}`, false);
  }
  if (bytes.length > maxBytes)
    throw new InputsFetchError(`inputs are ${bytes.length} bytes, over the ${maxBytes}-byte limit`, false);
  return new Uint8Array(bytes);
}

async function fetchHttp(uri: string, options: InputsFetchOptions): Promise<Uint8Array> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  try {
    let url = httpURL(uri, uri);
    for (let redirects = 0; ; redirects++) {
      const subject = redirects === 0 ? `inputs URI ${uri}` : `inputs URI ${uri} redirects to ${url.href}, which`;
      const addresses = await vetAddresses(subject, url, options, deadline);
      const response = await get(url, addresses, deadline);
      const location = response.headers.location;
      if (!REDIRECT_STATUSES.has(response.statusCode ?? 0) || location === undefined)
        return await readBody(uri, response, options.maxBytes);
      response.destroy();
      if (redirects === MAX_REDIRECTS)
        throw new InputsFetchError(`inputs URI ${uri} redirects more than ${MAX_REDIRECTS} times`, false);
      url = httpURL(uri, location, url);
    }
  } catch (e) {
    if (e instanceof InputsFetchError) throw e;
    if (deadline.aborted)
      throw new InputsFetchError(
        `fetching ${uri}: no complete answer within ${options.timeoutMs} ms (inputsFetch.timeoutMs); will retry`,
        true,
      );
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputsFetchError(`fetching ${uri}: ${(e as Error).message}${code ? ` (${code})` : ""}`, true);
  }
}

/** The URI, or a redirect's location against the URL that gave it; only http(s). */
function httpURL(uri: string, target: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(target, base);
  } catch {
    throw new InputsFetchError(`inputs URI ${uri}${base ? ` redirects to ${target}, which` : ""} is not a URL`, false);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new InputsFetchError(
      `inputs URI ${uri} redirects to ${url.href.slice(0, 60)}: only http(s) is followed`,
      false,
    );
  return url;
}

/** The host's addresses, each judged before any connection; one refused address refuses the URI. `subject` names
 *  the hop in messages. */
async function vetAddresses(
  subject: string,
  url: URL,
  options: InputsFetchOptions,
  deadline: AbortSignal,
): Promise<ResolvedAddress[]> {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const literal = isIP(host) !== 0;
  const addresses = literal
    ? [{ address: host, family: isIP(host) }]
    : await untilAborted((options.resolve ?? systemResolver)(host), deadline);
  if (addresses.length === 0) throw new InputsFetchError(`inputs URI host ${host} resolves to no address`, true);
  for (const { address } of addresses) {
    const verdict = judgeAddress(address, options);
    if (verdict.allowed) continue;
    const remedy = verdict.allowedBy
      ? `set inputsFetch.${verdict.allowedBy} in the worker config to allow it`
      : "no setting allows it";
    throw new InputsFetchError(
      `${subject} ${literal ? "names" : "resolves to"} ${address}, ${verdict.description}: refused (a job's poster chooses this URI); ${remedy}`,
      false,
    );
  }
  return addresses;
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** One GET on a fresh connection to the vetted addresses: the socket asks `lookup`, which answers only those. */
function get(url: URL, addresses: ResolvedAddress[], signal: AbortSignal): Promise<http.IncomingMessage> {
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, addresses);
    else callback(null, addresses[0].address, addresses[0].family);
  };
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.get(
      url,
      // The hash on chain is of the bytes as served: no content coding.
      { agent: false, lookup: pinned, signal, headers: { "accept-encoding": "identity" } },
      resolve,
    );
    request.on("error", reject);
  });
}

/** The body of a 2xx answer, refused as soon as it (or its Content-Length) passes `maxBytes`. */
async function readBody(uri: string, response: http.IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const status = response.statusCode ?? 0;
  if (status < 200 || status > 299) {
    response.destroy();
    const retryable = isRetryableStatus(status);
    throw new InputsFetchError(`fetching ${uri}: HTTP ${status}${retryable ? "; will retry" : ""}`, retryable);
  }
  const tooLarge = (what: string) => {
    response.destroy();
    return new InputsFetchError(`inputs at ${uri} ${what}, over the ${maxBytes}-byte limit`, false);
  };
  const declared = Number(response.headers["content-length"]);
  if (declared > maxBytes) throw tooLarge(`are ${declared} bytes (Content-Length)`);
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    received += chunk.length;
    if (received > maxBytes) throw tooLarge(`passed ${received} bytes (reading stopped there)`);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}
