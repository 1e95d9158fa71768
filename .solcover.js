// solidity-coverage: measure the dcl contracts, not the test-only helpers under contracts/test/.
module.exports = {
  skipFiles: ["test/"],
  istanbulReporter: ["html", "json-summary", "text"],
  // Gas tests assert gas targets that instrumentation would break; they run in `npm run gas` instead.
  mocha: { grep: "@gas-report", invert: true },
};
