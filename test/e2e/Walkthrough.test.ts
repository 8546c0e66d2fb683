/**
 * The README, walked as a newcomer walks it: the quick start's `npm start` exactly as written (ports moved), GraphiQL
 * in a browser with the network closed, then every `sh walkthrough` block of the README in one bash session: a
 * circuit of one's own built from a circomlib template in a scratch folder, registered, served by a second operator
 * who gets tokens from the faucet and stakes, and a job on it posted, proved by that operator, fetched and checked by
 * plain `snarkjs groth16 verify`. Ctrl-C then stops the devnet, and nothing is left running.
 */
import { expect } from "chai";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../dev/localNode.ts";
import { REPO_ROOT } from "../../common/circuits/catalog.ts";
import { ignitionDeploymentDir } from "../../common/deploy/ignitionDeploy.ts";
import { checkGraphiQL } from "../helpers/graphiql.ts";
import { readmeBlocks, walkthroughScript } from "../helpers/readmeWalkthrough.ts";
import { parseBanner, waitForDemoJobsProved } from "../../scripts/devnetBanner.ts";

/** Devnet account #3, the README's second operator, and #4, its requester (hardhat's well-known keys). */
const SECOND_OPERATOR = "0x90f79bf6eb2c4f870365e785982e1f101e93b906";
const SECOND_OPERATOR_KEY = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
const REQUESTER_KEY = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";

function collect(proc: ChildProcess): { text: () => string } {
  let text = "";
  proc.stdout!.on("data", (d) => (text += d));
  proc.stderr!.on("data", (d) => (text += d));
  return { text: () => text };
}

/** Signals a process group (what Ctrl-C in a terminal does); a group already gone is fine. */
function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

async function graphql(url: string, query: string): Promise<any> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
  const { data, errors } = (await response.json()) as { data: any; errors?: unknown };
  expect(errors, JSON.stringify(errors)).to.equal(undefined);
  return data;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe("the README, as a newcomer follows it", function () {
  it("quick start, GraphiQL, a circuit of one's own served by a second operator, a job proved and verified", async function () {
    expect(readmeBlocks("quickstart").map((b) => b.trim())).to.deep.equal(["npm install\nnpm start"]);

    const [chainPort, coordinatorPort, metricsPort, secondMetricsPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    const scratch = mkdtempSync(path.join(os.tmpdir(), "pm-walkthrough-"));
    const deploymentId = `test-walkthrough-${process.pid}`;
    const linkPrefix = path.join(scratch, "npm-prefix");
    mkdirSync(linkPrefix);
    const env = {
      ...process.env,
      PATH: `${path.join(linkPrefix, "bin")}:${path.dirname(process.execPath)}:${process.env.PATH}`,
      // `npm link` installs the commands here instead of the machine's global folder.
      npm_config_prefix: linkPrefix,
    };

    // The quick start's second command, in a process group of its own so that Ctrl-C reaches all of it, as in a
    // terminal.
    const devnet = spawn("npm", ["start"], {
      cwd: REPO_ROOT,
      detached: true,
      env: {
        ...env,
        PM_DEVNET_CHAIN_PORT: String(chainPort),
        PM_DEVNET_COORDINATOR_PORT: String(coordinatorPort),
        PM_DEVNET_METRICS_PORT: String(metricsPort),
        PM_DEVNET_DIR: path.join(scratch, "devnet"),
        PM_DEVNET_DEPLOYMENT: deploymentId,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const devnetOutput = collect(devnet);
    const devnetExit = new Promise<number | null>((r) => devnet.once("exit", r));
    let walkthrough: ChildProcess | undefined;
    try {
      const banner = await until("npm start to be ready", 240_000, async () => {
        if (devnet.exitCode !== null) throw new Error(`npm start exited:\n${devnetOutput.text()}`);
        return parseBanner(devnetOutput.text());
      }).catch((e) => {
        throw new Error(`${(e as Error).message}\n${devnetOutput.text()}`);
      });
      // The banner lists the keys the README's walkthrough uses (accounts #3 and #4).
      for (const key of [SECOND_OPERATOR_KEY, REQUESTER_KEY]) expect(devnetOutput.text()).to.contain(key);

      // The demo jobs get proved, and GraphiQL shows them in a browser that can reach nothing but this machine.
      await waitForDemoJobsProved(banner, 240_000);
      const page = await checkGraphiQL({
        url: banner.graphiql,
        query: banner.query,
        screenshot: path.join(REPO_ROOT, "test-artifacts", "graphiql-devnet.png"),
      });
      expect(page.externalRequests).to.deep.equal([]);
      expect(page.queryFields).to.include.members(["job", "jobs", "marketStats"]);
      const shown = JSON.parse(page.result).data.jobs as { status: string }[];
      expect(shown.filter((job) => job.status === "Proved")).to.have.length(banner.postedJobs);

      // The rest of the README's walkthrough, in one bash session, as written.
      const script = walkthroughScript({
        "127.0.0.1:8545": `127.0.0.1:${chainPort}`,
        "127.0.0.1:8080": `127.0.0.1:${coordinatorPort}`,
        "--metrics-port 9465": `--metrics-port ${secondMetricsPort}`,
        "ignition/deployments/devnet": path.relative(REPO_ROOT, ignitionDeploymentDir(deploymentId)),
        "/tmp/my-circuit": path.join(scratch, "my-circuit"),
      });
      // Its own process group too: a failure must not leave the second worker (started with `&`) behind.
      walkthrough = spawn("bash", ["-c", script], {
        cwd: REPO_ROOT,
        env,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      });
      const walkthroughOutput = collect(walkthrough);
      const code = await new Promise<number | null>((r) => walkthrough!.once("exit", r));
      const out = walkthroughOutput.text();
      expect(code, out).to.equal(0);
      expect(out).to.match(/"circuitId":\s*"8"/);
      expect(out).to.match(/"jobId":\s*"4"/);
      expect(out).to.contain("OK!");
      // The operator's earnings came out: the fee of the job it proved.
      expect(out).to.match(/withdrew 3\.0 earnings/);

      // The job was proved by the second operator, on the circuit built in the scratch folder.
      const { job } = await graphql(banner.graphiql, '{ job(id: "4") { status assignee circuit { id } } }');
      expect(job).to.deep.include({ status: "Proved", assignee: SECOND_OPERATOR });
      expect(job.circuit.id).to.equal("8");
    } finally {
      signalGroup(walkthrough?.pid, "SIGKILL");
      signalGroup(devnet.pid, "SIGINT");
      // npm start's exit also ends its use of the deployment folder; only then is it removed. A devnet that does not
      // stop within a minute is killed (and the exit-code check below fails).
      const killLater = setTimeout(() => signalGroup(devnet.pid, "SIGKILL"), 60_000);
      await devnetExit;
      clearTimeout(killLater);
      rmSync(scratch, { recursive: true, force: true });
      rmSync(ignitionDeploymentDir(deploymentId), { recursive: true, force: true });
    }
    expect(await devnetExit).to.equal(0);
    for (const url of [`http://127.0.0.1:${coordinatorPort}/health`, `http://127.0.0.1:${chainPort}`]) {
      const refused = await fetch(url).then(
        () => false,
        () => true,
      );
      expect(refused, `${url} still answers after Ctrl-C`).to.equal(true);
    }
  });
});
