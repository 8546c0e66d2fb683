/**
 * `npm start` on this checkout: it brings up the chain, the Ignition deployment, the coordinator and a staked
 * worker, posts demo jobs that get proved, prints where GraphiQL is, and Ctrl-C (SIGINT) stops all of it.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ignitionDeploymentDir } from "../../common/deploy/ignitionDeploy.ts";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { freePort } from "../../common/chain/localNode.ts";

describe("npm start", function () {
  it("runs the devnet, proves its demo jobs, and stops cleanly on Ctrl-C", async function () {
    const [chainPort, coordinatorPort] = [await freePort(), await freePort()];
    const devnetDir = mkdtempSync(path.join(os.tmpdir(), "pm-devnet-"));
    const deploymentId = `test-start-${process.pid}`;
    const proc = spawn(process.execPath, [path.join(REPO_ROOT, "scripts", "start.ts")], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        PM_DEVNET_CHAIN_PORT: String(chainPort),
        PM_DEVNET_COORDINATOR_PORT: String(coordinatorPort),
        PM_DEVNET_METRICS_PORT: "0",
        PM_DEVNET_JOBS: "2",
        PM_DEVNET_DIR: devnetDir,
        PM_DEVNET_DEPLOYMENT: deploymentId,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    proc.stdout.on("data", (d) => (output += d));
    proc.stderr.on("data", (d) => (output += d));
    const exited = new Promise<number | null>((r) => proc.once("exit", r));
    try {
      const started = Date.now();
      while (!output.includes("[devnet] ready.")) {
        if (proc.exitCode !== null || Date.now() - started > 180_000) throw new Error(`npm start failed:\n${output}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      const graphiql = /GraphiQL:\s+(\S+)/.exec(output)![1];
      expect(graphiql).to.equal(`http://127.0.0.1:${coordinatorPort}/graphql`);
      // GraphiQL is served to a browser.
      const page = await fetch(graphiql, { headers: { accept: "text/html" } });
      expect(await page.text()).to.match(/graphiql/i);
      // The printed query works, and the demo jobs get proved.
      const query = /Try:\s+([\s\S]*?\})\s*\n\s*Chain:/.exec(output)![1];
      for (;;) {
        const response = await fetch(graphiql, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ query }),
        });
        const { data, errors } = (await response.json()) as { data: any; errors?: unknown };
        expect(errors).to.equal(undefined);
        if (data.marketStats.proved === 2) break;
        if (Date.now() - started > 240_000) throw new Error(`demo jobs not proved: ${JSON.stringify(data)}`);
        await new Promise((r) => setTimeout(r, 500));
      }
    } finally {
      proc.kill("SIGINT");
    }
    expect(await exited).to.equal(0);
    rmSync(devnetDir, { recursive: true, force: true });
    rmSync(ignitionDeploymentDir(deploymentId), { recursive: true, force: true });
    expect(output).to.contain("stopping");
    // Nothing is left listening.
    for (const url of [`http://127.0.0.1:${coordinatorPort}/health`, `http://127.0.0.1:${chainPort}`]) {
      const refused = await fetch(url).then(
        () => false,
        () => true,
      );
      expect(refused, `${url} still answers`).to.equal(true);
    }
  });
});
