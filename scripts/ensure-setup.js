#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone with only Node and npm: installs the locked
// dependencies (npm ci) when node_modules is missing or older than package-lock.json, compiles
// the contracts (TypeChain bindings included) when their artifacts are missing, and builds the web
// console (scripts/build-ui.js) when it is missing or older than its sources. Plain JS on purpose:
// it runs before any dependency is installed.
const { existsSync, statSync } = require("node:fs");
const { execSync } = require("node:child_process");
const { join } = require("node:path");

const root = join(__dirname, "..");
const run = (cmd) => execSync(cmd, { cwd: root, stdio: "inherit" });
const marker = join(root, "node_modules", ".package-lock.json");
const lock = join(root, "package-lock.json");

if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  console.log("dcl: installing dependencies (npm ci) ...");
  run("npm ci --no-audit --no-fund");
}
if (!existsSync(join(root, "typechain-types", "index.ts"))) {
  console.log("dcl: compiling contracts ...");
  run("npx hardhat compile --quiet");
}
run("node scripts/build-ui.js --if-stale");
