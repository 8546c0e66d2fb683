/**
 * A real local chain: `hardhat node` (EDR) in its own process, bound to loopback (on a free port unless one is
 * given), with its default funded development accounts. Tests and `npm start` use it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import path from "node:path";
import { HDNodeWallet, type JsonRpcProvider, Mnemonic, type Wallet } from "ethers";
import { createProvider } from "../common/chain/provider.ts";
import { REPO_ROOT } from "../common/circuits/catalog.ts";

/** Hardhat's default development mnemonic (its accounts are public knowledge: never use them elsewhere). */
export const DEV_MNEMONIC = "test test test test test test test test test test test junk";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether nothing listens on 127.0.0.1:port (found by listening on it for a moment). */
export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (e: NodeJS.ErrnoException) => (e.code === "EADDRINUSE" ? resolve(false) : reject(e)));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

export interface LocalChain {
  url: string;
  provider: JsonRpcProvider;
  /** Funded accounts 0..9, as wallets connected to the provider. */
  accounts: Wallet[];
  /** The `hardhat node` process (its pid, and its exit when it dies on its own). */
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface LocalChainOptions {
  /**
   * Run the node in its own process group, so that a terminal's Ctrl-C reaches only its parent, which then stops
   * it when it chooses (`npm start` stops the chain last, after the worker has settled its claims).
   */
  ownProcessGroup?: boolean;
}

export async function startLocalChain(port?: number, options: LocalChainOptions = {}): Promise<LocalChain> {
  if (port !== undefined && !(await isPortFree(port)))
    // Else the new node would die on EADDRINUSE while whatever holds the port answered in its place.
    throw new Error(`port ${port} is in use: is another chain (or npm start) running? stop it, or use another port`);
  port ??= await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc: ChildProcess = spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, "node_modules", "hardhat", "dist", "src", "cli.js"),
      "node",
      "--hostname",
      "127.0.0.1",
      "--port",
      String(port),
    ],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], detached: options.ownProcessGroup ?? false },
  );
  // A script that ends without stopping its chain (an uncaught error in a bench) takes the node with it, instead of
  // leaving a `hardhat node` running on its port.
  const killOnExit = () => proc.kill();
  process.on("exit", killOnExit);
  proc.once("exit", () => process.off("exit", killOnExit));
  let output = "";
  proc.stdout!.on("data", (d) => (output += d));
  proc.stderr!.on("data", (d) => (output += d));
  // Asked by plain fetch until it answers: an ethers provider would print "failed to detect network" meanwhile.
  const answers = () =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_blockNumber", params: [] }),
    }).then(
      (r) => r.ok,
      () => false,
    );
  const started = Date.now();
  while (!(await answers())) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`hardhat node exited (${proc.signalCode ?? proc.exitCode}):\n${output}`);
    if (Date.now() - started > 60_000) throw new Error(`hardhat node did not start within 60 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const provider = createProvider(url, 200);
  const mnemonic = Mnemonic.fromPhrase(DEV_MNEMONIC);
  const accounts = Array.from({ length: 10 }, (_, i) =>
    HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`).connect(provider),
  ) as unknown as Wallet[];
  return {
    url,
    provider,
    accounts,
    process: proc,
    async stop() {
      provider.destroy();
      // A process killed by a signal keeps exitCode null (signalCode is set): it has exited all the same.
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill("SIGTERM");
        await new Promise((r) => proc.once("exit", r));
      }
    },
  };
}
