import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, TASK_TEST_GET_TEST_FILES } from "hardhat/builtin-tasks/task-names";
import "@nomicfoundation/hardhat-toolbox";
import type { HardhatUserConfig } from "hardhat/config";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const solcVersion: string = require("solc/package.json").version;

// Compile with the solc that npm installed (soljson.js): no compiler download, works offline.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD).setAction(async ({ solcVersion: wanted }, _hre, runSuper) => {
  if (wanted !== solcVersion) return runSuper();
  return {
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
    version: solcVersion,
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    longVersion: require("solc").version(),
  };
});

// Only `*.test.ts` files are suites; other files under test/ are fixtures and child-process programs.
subtask(TASK_TEST_GET_TEST_FILES).setAction(async (args, _hre, runSuper) => {
  const files: string[] = await runSuper(args);
  return files.filter((f) => f.endsWith(".test.ts"));
});

const config: HardhatUserConfig = {
  solidity: {
    version: solcVersion,
    settings: { optimizer: { enabled: true, runs: 200 }, evmVersion: "cancun" },
  },
  networks: {
    hardhat: { allowUnlimitedContractSize: false },
    // Any EVM JSON-RPC endpoint: DCL_RPC_URL (defaults to a local anvil / hardhat node).
    external: { url: process.env.DCL_RPC_URL ?? "http://127.0.0.1:8545" },
  },
  typechain: { outDir: "typechain-types", target: "ethers-v6" },
  mocha: { timeout: 120_000 },
  gasReporter: {
    enabled: process.env.REPORT_GAS === "true",
    offline: true,
    currency: "USD",
    showMethodSig: false,
    reportPureAndViewMethods: false,
    outputFile: process.env.GAS_REPORT_FILE,
    noColors: process.env.GAS_REPORT_FILE !== undefined,
  },
};

export default config;
