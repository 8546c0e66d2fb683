import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";
import os from "node:os";
import path from "node:path";
import { MARKET_SOLC_SETTINGS, SOLC_SETTINGS, SOLC_VERSION, SOLJSON_PATH } from "./common/contracts/solc.ts";

// The compiler and its settings are the project's one set (common/contracts/solc.ts), which also compiles verifiers
// of circuits built outside this build; the market alone has settings of its own (its code size).
const compiler = {
  compilers: [{ version: SOLC_VERSION, path: SOLJSON_PATH, settings: SOLC_SETTINGS }],
  overrides: {
    "contracts/ProofMarket.sol": { version: SOLC_VERSION, path: SOLJSON_PATH, settings: MARKET_SOLC_SETTINGS },
  },
};

// Every worker the tests start (directly, through the CLIs, `npm start` or the README's commands) shares one cache of
// compiled verifier expectations: each would otherwise compile them for its fresh data folder. Set here, in the
// process that starts the test files' processes, so that they all inherit it.
process.env.PM_VERIFIER_CACHE ??= path.join(os.tmpdir(), "proofmarket-test-verifier-cache");

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    // Built so that off-chain code has a generic ERC-20 ABI (decimals, approve) for any token.
    npmFilesToBuild: ["@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol"],
    // `ignition deploy` builds with the production profile: the same compiler and settings as tests and gas runs.
    profiles: { default: compiler, production: compiler },
  },
  paths: {
    tests: { mocha: "test", solidity: "test/contracts" },
  },
  test: {
    mocha: {
      // Real proofs take seconds each on two cores.
      timeout: 300_000,
      // Two test files at a time: most of a file's time is spent waiting on chains, workers and timers, so two
      // share the machine's two cores with little contention (every chain, server and database a test starts is
      // its own, on a free port or under a unique name).
      parallel: true,
      jobs: 2,
    },
    solidity: {
      fuzz: { runs: 256 },
      invariant: { runs: 64, depth: 64, failOnRevert: false },
    },
  },
  // `ignition deploy --verify` publishes sources on the chain's explorer (Etherscan API v2 covers Sepolia).
  verify: { etherscan: { apiKey: configVariable("ETHERSCAN_API_KEY") } },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1" },
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
    // Any EVM chain by RPC URL, with the deployer's key from the Hardhat keystore or the environment
    // (`npm start` and the deployment test use it against a local node, exactly as a testnet would be used).
    custom: {
      type: "http",
      chainType: "l1",
      url: configVariable("PM_RPC_URL"),
      accounts: [configVariable("PM_DEPLOYER_KEY")],
    },
    sepolia: {
      type: "http",
      chainType: "l1",
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("SEPOLIA_PRIVATE_KEY")],
    },
  },
});
