/**
 * The chain reader's event decoder (common/chain/eventDecoder.ts) gives exactly what ethers' parseLog gives
 * (`args.toObject(true)`), for every event of the market's ABI and for the other types events are made of, over
 * many random values each; leaves what it does not plan (indexed strings, fixed-size arrays, tuples with dynamic
 * members) to ethers; fails where ethers fails (truncated data, invalid UTF-8); and is much faster.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { type EventFragment, getAddress, hexlify, Interface, type ParamType } from "ethers";
import { createEventDecoder } from "../../common/chain/eventDecoder.ts";
import { contractArtifact } from "../../common/contracts/artifacts.ts";

const STRINGS = ["", "ipfs://bafy", "héllo ✓ 🚀", "\uFEFFa leading BOM", "x".repeat(100), "data:,{}"];
const pickOne = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];
const big = (bytes: number) => BigInt(hexlify(randomBytes(bytes)));

/** A random value of an ABI type, as ethers' encoder takes it. */
function sample(p: ParamType): unknown {
  const t = p.type;
  let m: RegExpExecArray | null;
  if ((m = /^uint(\d*)$/.exec(t))) return big(Number(m[1] || 256) / 8);
  if ((m = /^int(\d*)$/.exec(t))) return BigInt.asIntN(Number(m[1] || 256), big(Number(m[1] || 256) / 8));
  if (t === "address") return getAddress(hexlify(randomBytes(20)));
  if (t === "bool") return Math.random() < 0.5;
  if ((m = /^bytes(\d+)$/.exec(t))) return hexlify(randomBytes(Number(m[1])));
  if (t === "string") return pickOne(STRINGS);
  if (t === "bytes") return hexlify(randomBytes(Math.floor(Math.random() * 70)));
  if (p.baseType === "array") {
    const length = p.arrayLength! >= 0 ? p.arrayLength! : Math.floor(Math.random() * 4);
    return Array.from({ length }, () => sample(p.arrayChildren!));
  }
  if (p.baseType === "tuple") return p.components!.map(sample);
  throw new Error(`no sample for ${t}`);
}

const OTHER = new Interface([
  "event Kinds(int8 indexed small, bool indexed on, bytes4 indexed sel, int256 big, bool flag, bytes2 tag, bytes blob, string text, address[] who, bool[] flags, int16[] deltas, bytes32[] roots)",
  "event Struct(uint256 indexed id, (uint96 a, bool b, address c, bytes32 d) s, string after)",
  "event Empty()",
  // Left to ethers:
  "event IndexedString(string indexed label, uint256 n)",
  "event NestedDynamic((uint256 a, string b) s)",
  "event FixedArray(uint256[2] pair)",
]);

function logsOf(iface: Interface, fragment: EventFragment, n: number) {
  return Array.from({ length: n }, () => iface.encodeEventLog(fragment, fragment.inputs.map(sample)));
}

describe("event decoder: the same as ethers' parseLog, faster", function () {
  const market = new Interface(contractArtifact("ProofMarket").abi);

  for (const [label, iface] of [
    ["the market's events", market],
    ["other argument types", OTHER],
  ] as const)
    it(`${label}: every event, random values, the same as parseLog(...).args.toObject(true)`, function () {
      const decode = createEventDecoder(iface);
      const names: string[] = [];
      iface.forEachEvent((fragment) => {
        names.push(fragment.name);
        for (const log of logsOf(iface, fragment, 40)) {
          const expected = iface.parseLog(log)!;
          const args = expected.args.toObject(true);
          // Where ethers' toObject turns an array of 0 or 1 items into an object ({} or { _: item }), the decoder
          // keeps an array: the same items, as Object.values reads them from either.
          for (const p of fragment.inputs)
            if (p.baseType === "array" && !p.indexed && !Array.isArray(args[p.name]))
              args[p.name] = Object.values(args[p.name] as object);
          expect(decode(log), fragment.format()).to.deep.equal({ name: expected.name, args });
        }
      });
      expect(names.length).to.be.greaterThan(iface === market ? 10 : 5);
    });

  it("a log of no known event is null; a truncated log or invalid UTF-8 fails as ethers fails", function () {
    const decode = createEventDecoder(OTHER);
    expect(decode({ topics: [`0x${"ab".repeat(32)}`], data: "0x" })).to.equal(null);
    expect(decode({ topics: [], data: "0x" })).to.equal(null);
    const [log] = logsOf(OTHER, OTHER.getEvent("Struct")!, 1);
    const cut = { topics: log.topics, data: log.data.slice(0, 2 + 64 * 3) };
    const ethersError = (l: typeof log) => {
      try {
        OTHER.parseLog(l)!.args.toObject(true);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error("ethers decoded it");
    };
    expect(() => decode(cut)).to.throw(ethersError(cut));
    // A string of invalid UTF-8 (0xff): ethers refuses it, and so does the decoder.
    const text = OTHER.encodeEventLog(OTHER.getEvent("Struct")!, [
      1n,
      [1n, true, getAddress(`0x${"11".repeat(20)}`), `0x${"22".repeat(32)}`],
      "ÿ",
    ]);
    const bad = { topics: text.topics, data: text.data.replace(/c3bf/, "ffff") };
    expect(() => decode(bad)).to.throw(ethersError(bad));
  });

  it("decodes a JobPosted at least ten times as fast as parseLog", function () {
    const decode = createEventDecoder(market);
    const logs = logsOf(market, market.getEvent("JobPosted")!, 2000);
    const time = (f: () => void) => {
      const started = performance.now();
      f();
      return performance.now() - started;
    };
    logs.slice(0, 200).forEach((l) => (market.parseLog(l), decode(l))); // warmed up alike
    // Each the best of five rounds, taken in turn: one round's time can hold a garbage collection or another
    // process's turn on a shared machine (a single round once made the decoder 9.4x, not ~35x, as fast).
    let [ethersMs, decoderMs] = [Infinity, Infinity];
    for (let round = 0; round < 5; round++) {
      ethersMs = Math.min(
        ethersMs,
        time(() => logs.forEach((l) => market.parseLog(l)!.args.toObject(true))),
      );
      decoderMs = Math.min(
        decoderMs,
        time(() => logs.forEach((l) => decode(l))),
      );
    }
    expect(decoderMs * 10, `decoder ${decoderMs.toFixed(0)} ms, ethers ${ethersMs.toFixed(0)} ms`).to.be.lessThan(
      ethersMs,
    );
  });
});
