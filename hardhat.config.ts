import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { createRequire } from "node:module";
import { configVariable, defineConfig } from "hardhat/config";

// The compiler comes from the npm `solc` package (soljson.js, WASM): nothing is downloaded at build time.
const solcVersion = createRequire(import.meta.url)("solc/package.json").version as string;
const soljson = createRequire(import.meta.url).resolve("solc/soljson.js");

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  solidity: {
    // Built so that off-chain code has a generic ERC-20 ABI (decimals, approve) for any token.
    npmFilesToBuild: ["@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol"],
    profiles: {
      default: {
        version: solcVersion,
        path: soljson,
        settings: { optimizer: { enabled: true, runs: 10_000 }, viaIR: true, evmVersion: "cancun" },
      },
    },
  },
  paths: {
    tests: { mocha: "test", solidity: "test/contracts" },
  },
  test: {
    // Real proofs take seconds each on two cores.
    mocha: { timeout: 300_000 },
    solidity: {
      fuzz: { runs: 256 },
      invariant: { runs: 64, depth: 64, failOnRevert: false },
    },
  },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1" },
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
    sepolia: {
      type: "http",
      chainType: "l1",
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("SEPOLIA_PRIVATE_KEY")],
    },
  },
});
