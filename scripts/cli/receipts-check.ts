/**
 * `dcl receipts check FILE... --rpc URL --registry ADDRESS [--api URL] [--interval MS] [--grace S] [--json]`:
 * were the operator's receipts kept? Each receipt in the files is verified, its signer judged against
 * the deployment's trust root (read live from the pinned registry), and its entry proven in the latest
 * checkpoint anchored on chain with an inclusion proof from the log's API checked against the root on
 * chain (node/receipts/receipt-check.ts). Exit codes: 0 every receipt kept or still pending within
 * the interval, 1 any overdue, broken, invalid or unchecked, 2 bad usage or unreadable input.
 */
import { readFile } from "node:fs/promises";
import { allKeptOrPending, checkReceipts, type ReceiptItem, type ReceiptResult, type ReceiptSummary } from "../../node/receipts/receipt-check";
import { openChainSources } from "../../node/receipts/chain-sources";
import { receiptItemsOf, ReceiptShapeError } from "../../node/receipts/receipt-items";

/** Options of the command, as commander parses them. */
export interface ReceiptsCheckOptions {
  rpc: string;
  registry: string;
  api: string;
  interval: string;
  grace: string;
  json?: boolean;
}

const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const DECIMAL_RE = /^(0|[1-9][0-9]{0,14})$/;
const MARK: Record<ReceiptResult["verdict"], string> = { kept: "✔ kept", pending: "… pending", overdue: "✘ OVERDUE", broken: "✘ BROKEN", invalid: "✘ invalid", unchecked: "? unchecked" };

/** The command's failure: its message and exit code. */
export class ReceiptsCheckError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
  }
}

/** The receipts of every file, in order; a file that cannot be read or holds no receipts is bad input (exit 2). */
async function readItems(files: string[]): Promise<{ file: string; item: ReceiptItem }[]> {
  const out: { file: string; item: ReceiptItem }[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      throw new ReceiptsCheckError(`cannot read ${file}: ${(err as Error).message}`, 2);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new ReceiptsCheckError(`${file} is not JSON: ${(err as Error).message}`, 2);
    }
    try {
      for (const item of receiptItemsOf(json)) out.push({ file, item });
    } catch (err) {
      if (err instanceof ReceiptShapeError) throw new ReceiptsCheckError(`${file} is not receipts: ${err.message}`, 2);
      throw err;
    }
  }
  return out;
}

/** One line per receipt, then the summary. */
export function formatReceiptResults(results: { file: string; result: ReceiptResult }[], summary: ReceiptSummary): string[] {
  const lines = results.map(({ file, result: r }) => `${MARK[r.verdict]} ${file} #${r.index} ${r.leafHash} [${r.code}]: ${r.detail}`);
  for (const { result: r } of results.filter((x) => x.result.verdict === "broken")) {
    lines.push("");
    lines.push(`Evidence against the operator of ${r.origin} (department ${r.signer.department}), receipt #${r.index} signed by ${r.signer.address}:`);
    if (r.anchor) lines.push(`  anchored on chain: checkpoint ${r.anchor.index}, size ${r.anchor.treeSize}, root ${r.anchor.root}, block ${r.anchor.block}${r.anchor.tx ? `, tx ${r.anchor.tx}` : ""}`);
    if (r.inclusion) lines.push(`  the log served: leaf ${r.inclusion.leafHash} with proof [${r.inclusion.proof.join(", ")}]${r.inclusion.root ? ` (its own root: ${r.inclusion.root})` : ""}`);
    if (r.notServed) lines.push(`  the log served nothing: ${r.notServed}`);
  }
  const total = results.length;
  lines.push("");
  const counts = (Object.entries(summary) as [string, number][]).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(", ");
  lines.push(`${allKeptOrPending(summary) ? "✔" : "✘"} ${total} receipt${total === 1 ? "" : "s"}: ${counts}`);
  return lines;
}

/** Runs the check; resolves with the exit code after printing the report with `out`. */
export async function receiptsCheckCommand(files: string[], o: ReceiptsCheckOptions, out: (line: string) => void): Promise<number> {
  if (!ADDRESS_RE.test(o.registry)) throw new ReceiptsCheckError(`--registry ${o.registry} is not an 0x-hex address`, 2);
  if (!DECIMAL_RE.test(o.interval)) throw new ReceiptsCheckError(`--interval ${o.interval} is not a number of milliseconds`, 2);
  if (!DECIMAL_RE.test(o.grace)) throw new ReceiptsCheckError(`--grace ${o.grace} is not a number of seconds`, 2);
  const items = await readItems(files);
  const sources = await openChainSources({ rpcUrl: o.rpc, registry: o.registry, apiUrl: o.api }).catch((err: Error) => {
    throw new ReceiptsCheckError(`cannot read the deployment of registry ${o.registry} at ${o.rpc}: ${err.message.split(" (")[0]}`, 1);
  });
  try {
    const options = { anchorIntervalMs: Number(o.interval), graceSeconds: Number(o.grace), now: Math.floor(Date.now() / 1000) };
    const { results, summary } = await checkReceipts(items.map((i) => i.item), sources, options);
    const ok = allKeptOrPending(summary);
    if (o.json) {
      const t = sources.trust;
      const trust = { registry: t.registry, chainId: t.chainId, block: t.takenAt.block, fingerprint: sources.fingerprint };
      out(JSON.stringify({ ok, summary, ...options, checkedAt: options.now, api: o.api, trust, results: results.map((r, i) => ({ file: items[i].file, ...r })) }, null, 2));
    } else {
      formatReceiptResults(results.map((result, i) => ({ file: items[i].file, result })), summary).forEach(out);
    }
    return ok ? 0 : 1;
  } finally {
    sources.close();
  }
}
