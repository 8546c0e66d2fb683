/**
 * The coordinator as a real process against a real chain: `kill -9` in the middle of a backfill, then a restart,
 * loses and duplicates nothing; a bad environment is refused naming the variable.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { exampleInputs } from "../../common/circuits/exampleInputs.ts";
import { connectMarket } from "../../common/contracts/artifacts.ts";
import { JOB_EVENTS } from "../../common/market/fold.ts";
import { jobStatusName } from "../../common/market/jobStatus.ts";
import { openDatabase } from "../../coordinator/db/client.ts";
import { scratchDatabase } from "../../coordinator/db/scratch.ts";
import { COORDINATOR_NODE_FLAGS } from "../../coordinator/runtime.ts";
import { type Devnet, postJob, startDevnet } from "../helpers/market.ts";
import { spawnLogged } from "../helpers/workerProcess.ts";

const MAIN = path.join(REPO_ROOT, "coordinator", "main.ts");
/** Started as `npm run coordinator` starts it. */
const COORDINATOR = [...COORDINATOR_NODE_FLAGS, MAIN];

describe("coordinator process", function () {
  let devnet: Devnet;

  before(async function () {
    devnet = await startDevnet();
    const requester = devnet.chain.accounts[2];
    const circuitId = devnet.circuitId("poseidon_preimage", "groth16");
    for (let i = 0; i < 20; i++)
      await postJob(devnet, requester, circuitId, await exampleInputs("poseidon_preimage", `proc${i}`));
  });

  after(async function () {
    await devnet?.chain.stop();
  });

  it("kill -9 mid-backfill, then a restart: every event indexed once, state as on chain", async function () {
    const scratch = await scratchDatabase("sqlite");
    const env = {
      DATABASE_URL: scratch.url,
      RPC_URL: devnet.chain.url,
      MARKET_ADDRESS: devnet.deployment.market,
      CONFIRMATIONS: "0",
      RANGE_SIZE: "2",
      POLL_MS: "100",
      PORT: "0",
    };
    try {
      const first = spawnLogged(COORDINATOR, env);
      await first.waitForLog((l) => l.msg === "indexed range");
      first.proc.kill("SIGKILL");
      await first.exited;
      const { db, close } = await openDatabase(scratch.url);
      const head = await devnet.chain.provider.getBlockNumber();
      const partial = await db.indexerCheckpoint.findUnique({ where: { id: 1 } });
      expect(partial!.lastBlock, "killed after the backfill had finished").to.be.lessThan(head);

      const second = spawnLogged(COORDINATOR, env);
      await second.waitForLog((l) => l.msg === "indexed range" && Number(l.to) >= head);
      const url = String((await second.waitForLog((l) => l.msg === "REST listening")).url);
      const metricsText = await (await fetch(`${url}/metrics`)).text();
      expect(metricsText).to.match(/pm_coordinator_indexed_block \d+/);
      expect(metricsText).to.match(/pm_coordinator_events_indexed_total [1-9]/);
      expect(await (await fetch(`${url}/health`)).json()).to.include({ ok: true });
      // GraphQL answers are kept until a commit changes what they read: a new job shows once it is indexed.
      const newest = async () => {
        const response = await fetch(`${url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query: "{ jobs(first: 1, orderBy: postedAt, orderDirection: desc) { id } }" }),
        });
        return ((await response.json()) as { data: { jobs: { id: string }[] } }).data.jobs[0].id;
      };
      // Computed, then computed and kept (an answer is kept from its query's second asking), then a hit.
      for (let i = 0; i < 3; i++) expect(await newest()).to.equal("20");
      const requester = devnet.chain.accounts[2];
      await postJob(devnet, requester, devnet.circuitId("poseidon_preimage", "groth16"), {
        ...(await exampleInputs("poseidon_preimage", "proc-new")),
      });
      const newHead = await devnet.chain.provider.getBlockNumber();
      await second.waitForLog((l) => l.msg === "indexed range" && Number(l.to) >= newHead);
      expect(await newest()).to.equal("21");
      const cacheMetrics = await (await fetch(`${url}/metrics`)).text();
      expect(cacheMetrics).to.match(/pm_coordinator_graphql_cache_hits_total [1-9]/);
      expect(cacheMetrics).to.match(/pm_coordinator_graphql_cache_dropped_total [1-9]/);
      second.proc.kill("SIGTERM");
      expect(await second.exited).to.equal(0);

      const market = connectMarket(devnet.deployment.market, devnet.chain.provider);
      const logs = await devnet.chain.provider.getLogs({ address: devnet.deployment.market, fromBlock: 0 });
      const jobLogs = logs.filter((l) => JOB_EVENTS.includes(market.interface.parseLog(l)?.name ?? ""));
      try {
        expect(await db.jobEvent.count()).to.equal(jobLogs.length);
        expect(await db.job.count()).to.equal(Number(await market.jobCount()));
        for (const job of await db.job.findMany()) {
          expect(job.status).to.equal(jobStatusName((await market.jobState(job.id)).status));
        }
        expect(await db.circuit.count()).to.equal(devnet.deployment.circuits.length);
      } finally {
        await close();
      }
    } finally {
      await scratch.drop();
    }
  });

  it("npm run coordinator starts it with the heap limits the memory goal was measured with", function () {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
    expect(pkg.scripts.coordinator).to.equal(`node ${COORDINATOR_NODE_FLAGS.join(" ")} coordinator/main.ts`);
  });

  it("refuses a bad environment, naming the variable", function () {
    const result = spawnSync(process.execPath, [MAIN], {
      cwd: REPO_ROOT,
      env: { ...process.env, RPC_URL: "nope", MARKET_ADDRESS: "0x12", DATABASE_URL: "mysql://x" },
      encoding: "utf8",
    });
    expect(result.status).to.equal(2);
    expect(result.stderr).to.contain("RPC_URL");
    expect(result.stderr).to.contain("MARKET_ADDRESS");
    expect(result.stderr).to.contain("DATABASE_URL");
    expect(result.stderr).to.contain("npm run coordinator -- --help lists the variables");
  });

  it("--help lists its environment variables; an argument is refused with the same list", function () {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [MAIN, ...args], { cwd: REPO_ROOT, encoding: "utf8" });
    const help = run("--help");
    expect(help.status).to.equal(0);
    for (const variable of ["DATABASE_URL", "RPC_URL", "MARKET_ADDRESS", "DEPLOYMENT", "PORT"])
      expect(help.stdout).to.contain(variable);
    const wrong = run("--port", "9000");
    expect(wrong.status).to.equal(2);
    expect(wrong.stderr).to.contain("the coordinator takes no arguments (got --port 9000); set environment variables:");
    expect(wrong.stderr).to.contain("RPC_URL");
  });
});
