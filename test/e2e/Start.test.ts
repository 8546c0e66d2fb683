/**
 * `npm start` on this checkout, in one run: it brings up the chain, the Ignition deployment, the coordinator and a
 * staked worker, posts demo jobs that get proved, and prints where GraphiQL is, a query that works and the
 * development accounts. Then a component is killed with SIGKILL: `npm start` names it, and Ctrl-C (SIGINT) still
 * stops all the rest, leaving no process and no listening port behind.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ignitionDeploymentDir } from "../../common/deploy/ignitionDeploy.ts";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { freePort } from "../../dev/localNode.ts";
import { type Banner, devnetPids, isRunning, parseBanner, waitForDemoJobsProved } from "../../scripts/devnetBanner.ts";

const DEMO_JOBS = 2;

async function until(what: string, done: () => boolean, timeoutMs: number, output: () => string): Promise<void> {
  const started = Date.now();
  while (!done()) {
    if (Date.now() - started > timeoutMs) throw new Error(`${what} within ${timeoutMs / 1000} s:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("npm start", function () {
  it("runs the devnet and proves its demo jobs; names a component that dies; Ctrl-C stops everything", async function () {
    const [chainPort, coordinatorPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    const devnetDir = mkdtempSync(path.join(os.tmpdir(), "pm-devnet-"));
    const deploymentId = `test-start-${process.pid}`;
    const proc = spawn(process.execPath, [path.join(REPO_ROOT, "scripts", "start.ts")], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PM_DEVNET_CHAIN_PORT: String(chainPort),
        PM_DEVNET_COORDINATOR_PORT: String(coordinatorPort),
        PM_DEVNET_METRICS_PORT: String(metricsPort),
        PM_DEVNET_JOBS: String(DEMO_JOBS),
        PM_DEVNET_DIR: devnetDir,
        PM_DEVNET_DEPLOYMENT: deploymentId,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    proc.stdout.on("data", (d) => (output += d));
    proc.stderr.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((r) => proc.once("exit", r));
    let pids: Record<string, number> | undefined;
    try {
      let banner: Banner | undefined;
      await until(
        "npm start printed no banner",
        () => (banner = parseBanner(output)) !== undefined || proc.exitCode !== null,
        180_000,
        () => output,
      );
      expect(banner, output).to.not.equal(undefined);
      expect(banner!.graphiql).to.equal(`http://127.0.0.1:${coordinatorPort}/graphql`);
      expect(banner!.postedJobs).to.equal(DEMO_JOBS);
      // GraphiQL is served to a browser, and the printed query shows the demo jobs proved.
      const page = await fetch(banner!.graphiql, { headers: { accept: "text/html" } });
      expect(await page.text()).to.match(/graphiql/i);
      await waitForDemoJobsProved(banner!, 240_000);

      // The development accounts, with keys to copy and what each is for.
      const key0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"; // hardhat node's account #0
      expect(output).to.match(new RegExp(`#0\\s+0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\\s+${key0}\\s+deployer`));
      expect(output).to.match(/#1\s+0x70997970C51812dc3A010C7d01b50e0d17dc79C8\s+0x[0-9a-f]{64}\s+the devnet's worker/);
      expect(output).to.contain("PUBLIC");
      expect(output).to.match(/PM_PRIVATE_KEY=0x[0-9a-f]{64} npx proofmarket-requester status 1/);

      // A component dies by a signal: npm start says which, how, and where its log is.
      const written = devnetPids(devnetDir);
      pids = written;
      expect(Object.keys(written)).to.have.members(["start", "chain", "coordinator", "worker"]);
      expect(written.start).to.equal(proc.pid);
      process.kill(written.coordinator, "SIGKILL");
      const died = `coordinator (pid ${written.coordinator}) died, killed by SIGKILL; its log: ${devnetDir}/coordinator.log`;
      await until(
        "npm start did not say the coordinator died",
        () => output.includes(died),
        10_000,
        () => output,
      );
    } finally {
      proc.kill("SIGINT");
    }
    // Ctrl-C still stops the rest: npm start exits, and no component is left running or listening.
    expect(await exited, output).to.equal(0);
    expect(output).to.contain("stopping");
    for (const [name, pid] of Object.entries(pids))
      expect(isRunning(pid), `${name} (pid ${pid}) still runs`).to.equal(false);
    for (const port of [chainPort, coordinatorPort, metricsPort]) {
      const refused = await fetch(`http://127.0.0.1:${port}/`).then(
        () => false,
        () => true,
      );
      expect(refused, `port ${port} still answers`).to.equal(true);
    }
    expect(existsSync(devnetDir)).to.equal(true);
    rmSync(devnetDir, { recursive: true, force: true });
    rmSync(ignitionDeploymentDir(deploymentId), { recursive: true, force: true });
  });

  it("refuses to start, in one line, when a port it needs is taken (another devnet), and starts nothing", async function () {
    const holder = createServer().listen(0, "127.0.0.1");
    await once(holder, "listening");
    const taken = (holder.address() as { port: number }).port;
    const devnetDir = mkdtempSync(path.join(os.tmpdir(), "pm-devnet-"));
    try {
      const proc = spawn(process.execPath, [path.join(REPO_ROOT, "scripts", "start.ts")], {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          PM_DEVNET_CHAIN_PORT: String(await freePort()),
          PM_DEVNET_COORDINATOR_PORT: String(taken),
          PM_DEVNET_METRICS_PORT: "0",
          PM_DEVNET_DIR: devnetDir,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      proc.stderr.on("data", (d) => (stderr += d));
      const [code] = await once(proc, "exit");
      expect(code).to.equal(1);
      expect(stderr).to.equal(
        `[devnet] port ${taken} is in use (is another npm start running?): stop it, or set PM_DEVNET_COORDINATOR_PORT\n`,
      );
      expect(existsSync(path.join(devnetDir, "pids.json"))).to.equal(false);
    } finally {
      holder.close();
      rmSync(devnetDir, { recursive: true, force: true });
    }
  });
});
