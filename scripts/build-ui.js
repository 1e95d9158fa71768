#!/usr/bin/env node
// Builds the web console (api/ui/) into api/ui/dist with esbuild: TypeScript + Preact, the charts
// library and dcl's own verifier bundled for the browser, code-split so the verifier loads only on
// the pages that use it; content-hashed asset names. Nothing is fetched from anywhere at build or run
// time. `--if-stale` rebuilds only when a source file the last build read is newer than the build
// (scripts/ensure-setup.js calls it so). Plain JS on purpose, like ensure-setup.js.
const { existsSync, readFileSync, writeFileSync, statSync, rmSync, mkdirSync } = require("node:fs");
const { join, relative } = require("node:path");

const root = join(__dirname, "..");
const ui = join(root, "api", "ui");
const dist = join(ui, "dist");
const meta = join(dist, "build-meta.json");

/** True when the last build is missing or older than a file it read (or than this script, index.html or the tsconfig). */
function stale() {
  if (!existsSync(meta) || !existsSync(join(dist, "index.html"))) return true;
  const built = statSync(meta).mtimeMs;
  const { inputs } = JSON.parse(readFileSync(meta, "utf8"));
  const extra = [__filename, join(ui, "index.html"), join(ui, "tsconfig.json")];
  return [...inputs.map((f) => join(root, f)), ...extra].some((f) => !existsSync(f) || statSync(f).mtimeMs > built);
}

async function build() {
  const esbuild = require("esbuild");
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { main: join(ui, "src", "main.tsx"), styles: join(ui, "src", "styles.css") },
    outdir: join(dist, "assets"),
    entryNames: "[name]-[hash]",
    chunkNames: "chunk-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: ["chrome110", "firefox110", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    minify: true,
    sourcemap: "linked",
    metafile: true,
    legalComments: "linked",
    logLevel: "warning",
    define: { "process.env.NODE_ENV": '"production"' },
  });
  const outputs = Object.entries(result.metafile.outputs);
  const name = (entry) => relative(dist, join(root, outputs.find(([, o]) => o.entryPoint && o.entryPoint.endsWith(entry))[0])).split("\\").join("/");
  const html = readFileSync(join(ui, "index.html"), "utf8")
    .replace("%MAIN_JS%", `/ui/${name("main.tsx")}`)
    .replace("%STYLES_CSS%", `/ui/${name("styles.css")}`);
  writeFileSync(join(dist, "index.html"), html);
  const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith("node_modules/"));
  writeFileSync(meta, JSON.stringify({ builtAt: new Date().toISOString(), inputs }, null, 1));
  const bytes = outputs.filter(([f]) => f.endsWith(".js")).reduce((n, [, o]) => n + o.bytes, 0);
  console.log(`dcl: console built into ${relative(root, dist)} (${(bytes / 1024).toFixed(0)} KiB of JavaScript)`);
}

if (process.argv.includes("--if-stale") && !stale()) process.exit(0);
build().catch((err) => {
  console.error(`dcl: building the console failed: ${err.message}`);
  process.exit(1);
});
