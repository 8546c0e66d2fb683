/**
 * `npm run bench` (coordinator part), on a real local chain and real databases (SQLite file, PostgreSQL): the
 * indexer's lag, from a transaction's receipt to its job being in the database, with the indexer polling every
 * 100 ms at confirmation depth 0 (goal <= 1 s), after indexing BENCH_JOBS posted jobs. Backfill speed at scale
 * (100,000 events) is `npm run bench:backfill` (bench/backfill.ts).
 */
import { exampleInputs } from "../common/circuits/exampleInputs.ts";
import { openDatabase } from "../coordinator/db/client.ts";
import { migrate } from "../coordinator/db/engine.ts";
import { PROVIDERS } from "../coordinator/db/schema.ts";
import { scratchDatabase } from "../coordinator/db/scratch.ts";
import { createIndexer } from "../coordinator/indexer/indexer.ts";
import { postJob, startDevnet } from "../dev/devnet.ts";

const JOBS = Number(process.env.BENCH_JOBS ?? 300);
const LAG_SAMPLES = 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const devnet = await startDevnet();
const requester = devnet.chain.accounts[2];
const circuitId = devnet.circuitId("poseidon_preimage", "groth16");
const document = await exampleInputs("poseidon_preimage", "bench");
for (let i = 0; i < JOBS; i++) await postJob(devnet, requester, circuitId, document);
console.log(`${JOBS} jobs posted\n`);

for (const provider of PROVIDERS) {
  const scratch = await scratchDatabase(provider);
  await migrate(scratch.url);
  const { db, close } = await openDatabase(scratch.url);
  const options = {
    db,
    provider: devnet.chain.provider,
    marketAddress: devnet.deployment.market,
    startBlock: 0,
    confirmations: 0,
  };
  await createIndexer({ ...options, rangeSize: 2000 }).catchUp();

  // Lag: a live indexer loop, and jobs posted one at a time.
  const live = createIndexer({ ...options, rangeSize: 2000 });
  let running = true;
  const loop = (async () => {
    while (running) if ((await live.syncOnce()) === null) await new Promise((r) => setTimeout(r, 100));
  })();
  const lags: number[] = [];
  for (let i = 0; i < LAG_SAMPLES; i++) {
    const jobId = await postJob(devnet, requester, circuitId, document);
    const mined = performance.now();
    while ((await db.job.findUnique({ where: { id: jobId.toString() } })) === null)
      await new Promise((r) => setTimeout(r, 10));
    lags.push(performance.now() - mined);
  }
  running = false;
  await loop;
  console.log(
    `${provider.padEnd(10)} lag median ${median(lags).toFixed(0)} ms, max ${Math.max(...lags).toFixed(0)} ms (goal <= 1000 ms)`,
  );
  await close();
  await scratch.drop();
}
await devnet.chain.stop();
process.exit(0);
