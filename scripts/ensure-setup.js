#!/usr/bin/env node
// Makes `npm start` and `npm test` work on a fresh clone with only Node and npm: installs the locked
// dependencies (npm ci) when node_modules is missing or older than package-lock.json, compiles
// the contracts (TypeChain bindings included) when their artifacts are missing, builds the web
// console (scripts/build-ui.js) when it is missing or older than its sources, and with `--dist`
// (npm start, npm run bench) compiles the product to dist/ (tsc -p tsconfig.build.json) when a
// source is newer than the last build. Plain JS on purpose: it runs before any dependency is installed.
//
// `--postinstall` (package.json's postinstall) only removes node_modules/.bin/node: the devDependency
// `node` (a Node 24 binary, for CI and `npm run bench` to run on it explicitly) links itself there,
// and npm puts node_modules/.bin first on every script's PATH, so without this every npm script
// would silently run on Node 24 instead of the Node that started it.
const { existsSync, statSync, readdirSync, rmSync, mkdirSync, symlinkSync, writeFileSync, lstatSync } = require("node:fs");
const { execSync } = require("node:child_process");
const { join } = require("node:path");

const root = join(__dirname, "..");
const run = (cmd) => execSync(cmd, { cwd: root, stdio: "inherit" });
const marker = join(root, "node_modules", ".package-lock.json");
const lock = join(root, "package-lock.json");

/** Removes the `node` that the devDependency node@24 links into node_modules/.bin (see above). */
function unshadowNode() {
  for (const name of ["node", "node.cmd", "node.ps1"]) rmSync(join(root, "node_modules", ".bin", name), { force: true });
}

// ---- dist/: the compiled product ----
const dist = join(root, "dist");
const stamp = join(dist, ".build-stamp");
const SOURCE_DIRS = ["api", "node", "scripts", "typechain-types"];
const SKIP = new Set([join(root, "api", "ui"), join(root, "node_modules")]);

/** Latest modification time of the build's inputs (its .ts sources and configuration). */
function newestSource() {
  let newest = 0;
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        if (!SKIP.has(p)) walk(p);
      } else if (e.name.endsWith(".ts")) {
        newest = Math.max(newest, statSync(p).mtimeMs);
      }
    }
  };
  for (const d of SOURCE_DIRS) if (existsSync(join(root, d))) walk(join(root, d));
  for (const f of ["tsconfig.json", "tsconfig.build.json", "package-lock.json"]) newest = Math.max(newest, statSync(join(root, f)).mtimeMs);
  return Math.max(newest, statSync(__filename).mtimeMs);
}

/** Compiles to dist/ when a source is newer than the last successful build; a type error fails it. */
function buildDist() {
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= newestSource()) return;
  console.log("dcl: compiling to dist/ (tsc -p tsconfig.build.json) ...");
  rmSync(stamp, { force: true });
  try {
    run(`"${process.execPath}" node_modules/typescript/bin/tsc -p tsconfig.build.json`);
  } catch {
    console.error("dcl: the TypeScript build failed (errors above); nothing started");
    process.exit(1);
  }
  // api/routes/ui.ts serves the console from ../ui/dist next to itself: point dist/api/ui/dist at the built console.
  const link = join(dist, "api", "ui", "dist");
  mkdirSync(join(dist, "api", "ui"), { recursive: true });
  if (!existsSync(link) && !isLink(link)) symlinkSync(join("..", "..", "..", "api", "ui", "dist"), link, "dir");
  writeFileSync(stamp, new Date().toISOString() + "\n");
}

function isLink(p) {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

if (process.argv.includes("--postinstall")) {
  unshadowNode();
  process.exit(0);
}
if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  console.log("dcl: installing dependencies (npm ci) ...");
  run("npm ci --no-audit --no-fund");
}
unshadowNode();
if (!existsSync(join(root, "typechain-types", "index.ts"))) {
  console.log("dcl: compiling contracts ...");
  run("npx hardhat compile --quiet");
}
run("node scripts/build-ui.js --if-stale");
if (process.argv.includes("--dist")) buildDist();
