/**
 * `npm run bench:backfill`: the coordinator's indexer backfilling a market with a long history, on a real local
 * chain and both databases, straight from the node and through the provider imitation (dev/rpcProxy.ts: eth_getLogs
 * capped at 500 blocks and 10,000 results, as public providers do).
 *
 * The history: BENCH_EVENTS (default 100,000) JobPosted events, posted BENCH_PER_TX to a transaction through
 * JobBatchPoster (contracts/mocks), with 200 empty blocks after every ten transactions, so that the reader pages by
 * block range as well as by result count. Goal (issue #13): at least 5,000 events/s without the proxy.
 *
 * Where the time goes is measured in the same run: the node alone (raw eth_getLogs over the same ranges), the
 * shared chain reader (eth_getLogs, block headers, decoding, continuity checks), and the whole indexer (the reader
 * and the database transactions).
 */
import { Contract, ContractFactory, parseEther } from "ethers";
import { createProvider } from "../common/chain/provider.ts";
import { exampleInputs } from "../common/circuits/exampleInputs.ts";
import { loadManifest } from "../common/circuits/catalog.ts";
import { contractArtifact, connectMarket, connectToken } from "../common/contracts/artifacts.ts";
import { inputsDataURI, parseInputsDocument, sha256Hex } from "../common/inputs/document.ts";
import { JOB_EVENTS, STAKE_EVENTS } from "../common/market/fold.ts";
import { createMarketReader } from "../common/market/marketReader.ts";
import { openDatabase } from "../coordinator/db/client.ts";
import { migrate } from "../coordinator/db/engine.ts";
import { PROVIDERS } from "../coordinator/db/schema.ts";
import { scratchDatabase } from "../coordinator/db/scratch.ts";
import { createIndexer } from "../coordinator/indexer/indexer.ts";
import { startDevnet } from "../dev/devnet.ts";
import { startRpcProxy } from "../dev/rpcProxy.ts";

const TARGET = Number(process.env.BENCH_EVENTS ?? 100_000);
const PER_TX = Number(process.env.BENCH_PER_TX ?? 120);
const RANGE = 2_000;

const devnet = await startDevnet();
const { market: marketAddress } = devnet.deployment;
const requester = devnet.chain.accounts[2];

// ---- The history ----
const posterArtifact = contractArtifact("JobBatchPoster");
const poster = await new ContractFactory(posterArtifact.abi, posterArtifact.bytecode, requester).deploy();
await poster.waitForDeployment();
const circuitId = devnet.circuitId("poseidon_preimage", "groth16");
const document = await exampleInputs("poseidon_preimage", "backfill");
const { uri, bytes } = inputsDataURI(document);
// What each job escrows: its price ramps up to it from half of it over ten minutes.
const maxFee = 1_000n;
const mintable = new Contract(devnet.deployment.token, ["function mint(address,uint256)"], requester);
await (await mintable.mint(requester.address, maxFee * BigInt(TARGET) * 2n)).wait();
await (await connectToken(devnet.deployment.token, requester).approve(await poster.getAddress(), 2n ** 255n)).wait();
const now = (await devnet.chain.provider.getBlock("latest"))!.timestamp;
const request = {
  circuitId,
  minFee: maxFee / 2n,
  maxFee,
  rampStart: 0,
  rampDuration: 600,
  bond: parseEther("1"),
  provingWindow: 300,
  expiresAt: now + 10_000_000,
  inputsCommitment: parseInputsDocument(loadManifest("poseidon_preimage"), document).inputsCommitment,
  inputsHash: sha256Hex(bytes),
  inputsURI: uri,
};
const mineEmpty = (n: number) =>
  fetch(devnet.chain.url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    // One by one in one request: hardhat_mine's reserved blocks do not name their parent.
    body: JSON.stringify(Array.from({ length: n }, (_, id) => ({ jsonrpc: "2.0", id, method: "evm_mine" }))),
  });
const postMany = poster.getFunction("postMany");
const madeStarted = performance.now();
const market = connectMarket(marketAddress, devnet.chain.provider);
for (let tx = 0; (await market.jobCount()) < BigInt(TARGET); tx++) {
  await (await postMany(marketAddress, request, PER_TX)).wait();
  if (tx % 10 === 9) await mineEmpty(200);
}
const head = await devnet.chain.provider.getBlockNumber();
// What the indexer stores: job and stake events and circuit registrations (not the owner's parameter changes).
const events = (
  await createMarketReader({ provider: devnet.chain.provider, address: marketAddress }).scan(0, [])
).filter((e) => [...JOB_EVENTS, ...STAKE_EVENTS, "CircuitRegistered"].includes(e.name)).length;
console.log(
  `history: ${events} market events in ${head} blocks, made in ${((performance.now() - madeStarted) / 1000).toFixed(0)} s\n`,
);

// ---- Where the time goes ----
const rate = (n: number, ms: number) =>
  `${((n / ms) * 1000).toFixed(0).padStart(6)} events/s (${(ms / 1000).toFixed(2)} s)`;

/** The node alone: raw eth_getLogs over RANGE-block ranges, nothing decoded. */
async function nodeAlone(url: string): Promise<number> {
  const provider = createProvider(url);
  const started = performance.now();
  let logs = 0;
  for (let from = 0; from <= head; from += RANGE) {
    const to = Math.min(head, from + RANGE - 1);
    const answer = (await provider.send("eth_getLogs", [
      { address: marketAddress, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${to.toString(16)}` },
    ])) as unknown[];
    logs += answer.length;
  }
  provider.destroy();
  console.log(`node alone (raw eth_getLogs, ${RANGE}-block ranges)      ${rate(logs, performance.now() - started)}`);
  return logs;
}

/** The shared chain reader: ranged reads, headers, continuity checks and decoding; nothing written. */
async function readerAlone(url: string, label: string): Promise<void> {
  const provider = createProvider(url);
  const reader = createMarketReader({ provider, address: marketAddress, initialRange: RANGE });
  const started = performance.now();
  let cursor: { number: number; hash: string | null } = { number: -1, hash: null };
  let decoded = 0;
  for (;;) {
    const step = await reader.next(cursor, () => []);
    if (step === null) break;
    if (step.kind !== "range") throw new Error("unexpected reorg on a quiet chain");
    decoded += step.events.length;
    cursor = step.cursor;
  }
  provider.destroy();
  console.log(`chain reader, ${label.padEnd(35)} ${rate(decoded, performance.now() - started)}`);
}

/** The whole indexer into a fresh database. */
async function indexer(url: string, database: string, label: string): Promise<void> {
  const scratch = await scratchDatabase(database as (typeof PROVIDERS)[number]);
  await migrate(scratch.url);
  const { db, close } = await openDatabase(scratch.url);
  // Not counted: the client's start-up (connecting, compiling its query engine) on its first query.
  await db.indexerCheckpoint.findUnique({ where: { id: 1 } });
  const provider = createProvider(url);
  const started = performance.now();
  await createIndexer({ db, provider, marketAddress, startBlock: 0, confirmations: 0, rangeSize: RANGE }).catchUp();
  const ms = performance.now() - started;
  const stored = (await db.jobEvent.count()) + (await db.stakeEvent.count()) + (await db.circuit.count());
  if (stored !== events) throw new Error(`indexed ${stored} events, the chain has ${events}`);
  console.log(`indexer, ${database.padEnd(10)} ${label.padEnd(27)} ${rate(stored, ms)}`);
  provider.destroy();
  await close();
  await scratch.drop();
}

const proxy = await startRpcProxy(devnet.chain.url, { maxBlockRange: 500, maxResults: 10_000 });
await nodeAlone(devnet.chain.url);
await readerAlone(devnet.chain.url, "straight from the node");
await readerAlone(proxy.url, "through the provider proxy");
for (const database of PROVIDERS) {
  await indexer(devnet.chain.url, database, "straight from the node");
  await indexer(proxy.url, database, "through the provider proxy");
}
console.log(`\nproxy: ${JSON.stringify(proxy.stats(), ["requests", "rangeRefusals", "resultRefusals"])}`);
await proxy.close();
await devnet.chain.stop();
process.exit(0);
