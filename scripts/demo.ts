/**
 * `npm run demo`: plays the seed scenario through the HTTP API only, and prints it as a story with
 * the figures. Runs against the API at DCL_API_URL (default http://127.0.0.1:8080) if it answers,
 * otherwise starts its own dcl on the embedded default (same ./data) and stops it at the end.
 *
 *   1. The big-data bureau registers the departments with their keys, and the catalog.
 *   2. Agreements with quotas are co-signed; a citizen's consent is granted for one purpose.
 *   3. Water and tax co-sign a water-resource-fee batch and its reconciliation; civil air defence
 *      does the same with a relocation-fee batch, and one record is disputed with its proof.
 *   4. 10,000 data calls are logged and anchored; over-quota and no-consent calls are refused;
 *      the citizen withdraws consent and the next call is refused.
 *   5. The regulator pulls an evidence bundle; the exchange checks a data product's provenance.
 *   6. The quarter's assessment of each department, reproduced from its period bundle alone, and the
 *      risk alert the over-quota call raised.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { SingleBar, Presets } from "cli-progress";
import { ethers, Wallet } from "ethers";
import { ApiError, DclClient, publicGet, type ApiTypedData } from "../api/client";
import { loadConfig } from "../api/config";
import { DEMO_DEPARTMENTS, main } from "../api/main";
import { codeId } from "../node/chain/ids";
import { loadKeystore, readPassword } from "../node/keys/keystore";
import { readDeployment } from "../node/runtime/deployment";
import { fromHex, verifyInclusion } from "../node/verify";
import { connectRpc, exportTrustRoot } from "../node/trust/export-trust-root";
import type { Assessment } from "../node/assessment/assess";
import { quarterOf } from "../node/assessment/period";
import type { PeriodBundle } from "../node/assessment/period-bundle";
import { verifyPeriodBundle } from "../node/assessment/verify-period-bundle";
import type { AlertView } from "../node/alerts/alert";
import { canonicalJson } from "../node/verify";
import { assessmentTable, namesOf } from "./cli/assessment-table";

const say = (s = "") => process.stdout.write(s + "\n");
const h = (s: string) => say(`\n== ${s} ${"=".repeat(Math.max(0, 70 - s.length))}`);
const fen = (n: bigint | string) => `¥${(Number(n) / 100).toLocaleString("en-US", { minimumFractionDigits: 2 })}`;
const rand32 = () => "0x" + randomBytes(32).toString("hex");
const sha = (s: string) => "0x" + createHash("sha256").update(s).digest("hex");

async function apiUp(url: string): Promise<boolean> {
  return fetch(url + "/healthz").then((r) => r.ok, () => false);
}

async function run(): Promise<void> {
  const config = loadConfig();
  const baseUrl = config.apiUrl;
  let stop: (() => Promise<void>) | undefined;
  if (!(await apiUp(baseUrl))) {
    say(`No dcl at ${baseUrl}: starting one on the embedded default (data in ${config.dataDir}) ...`);
    // Quieter logs and quicker anchors for the story, unless set otherwise.
    const started = await main({ DCL_LOG_LEVEL: "warn", DCL_ANCHOR_INTERVAL_MS: "2000", ...process.env });
    stop = started.stop;
  }
  try {
    await play(baseUrl, config.dataDir, config.deploymentFile, config.password, config.rpcUrl);
  } finally {
    await stop?.();
  }
}

async function play(baseUrl: string, dataDir: string, deploymentFile: string, passwordSource: { password?: string; passwordFile?: string }, rpcUrl: string) {
  const deployment = await readDeployment(deploymentFile);
  if (!deployment) throw new Error(`no deployment at ${deploymentFile}`);
  const password = await readPassword(passwordSource.password || passwordSource.passwordFile ? passwordSource : { passwordFile: join(dataDir, "keys", "password") });
  const options = { baseUrl, chainId: BigInt(deployment.chainId), registry: deployment.addresses.registry };
  const governorKey = await loadKeystore(join(dataDir, "keys", "operator.json"), password);
  const governor = new DclClient(options, codeId("cq.bigdata"), governorKey as Wallet);
  const dept: Record<string, DclClient> = {};
  for (const code of DEMO_DEPARTMENTS) {
    dept[code] = new DclClient(options, codeId(code), (await loadKeystore(join(dataDir, "keys", "demo", `${code}.json`), password)) as Wallet);
  }
  const [tax, water, cad, civil, yuzhong, regulator, wdex] = DEMO_DEPARTMENTS.map((c) => dept[c]);
  const now = () => Math.floor(Date.now() / 1000);
  const codeOf = (c: DclClient) => DEMO_DEPARTMENTS.find((code) => dept[code] === c) ?? c.department;
  const cosign = async (path: string, td: ApiTypedData, ...parties: DclClient[]) => {
    let last: unknown;
    for (const p of parties) last = await p.post(path, { signature: await p.signTypedData(td) });
    return last as Record<string, unknown>;
  };

  h("1. The big-data bureau registers departments, keys and the catalog");
  const names: Record<string, string> = {
    "cq.tax": "Chongqing Tax Service", "cq.water": "Water Resources Bureau", "cq.cad": "Civil Air Defence Office",
    "cq.civil": "Civil Affairs Bureau", "cq.yuzhong.bigdata": "Yuzhong District Big Data Bureau",
    "cq.regulator": "Data-security supervision (regulator)", "cq.wdex": "Western Data Exchange",
  };
  for (const code of DEMO_DEPARTMENTS) {
    const id = codeId(code);
    const exists = await governor.get(`/v1/departments/${id}`).then(() => true, (e) => (e instanceof ApiError && e.status === 404 ? false : Promise.reject(e)));
    if (!exists) {
      await governor.post("/v1/departments", {
        code, level: code === "cq.yuzhong.bigdata" ? "district" : "city",
        ...(code === "cq.yuzhong.bigdata" ? { parent: codeId("cq.bigdata") } : {}),
        signers: [dept[code].key.address],
      });
    }
    say(`  ${exists ? "already registered" : "registered"}  ${code.padEnd(20)} ${names[code]}  key ${dept[code].key.address}`);
  }
  for (const [role, who] of [["regulator", regulator], ["exchange", wdex]] as const) {
    await governor.post("/v1/roles", { role, account: who.key.address });
    say(`  role ${role} granted to ${who.key.address}`);
  }
  const resources = [
    { code: "res.water.fee-assessments", owner: "cq.water", condition: "conditional", personal: false },
    { code: "res.cad.fee-assessments", owner: "cq.cad", condition: "conditional", personal: false },
    { code: "res.civil.residents", owner: "cq.civil", condition: "conditional", personal: true },
    { code: "res.cad.shelter-locations", owner: "cq.cad", condition: "not_shareable", personal: false },
  ] as const;
  for (const r of resources) {
    const id = codeId(r.code);
    const exists = await governor.get(`/v1/resources/${id}`).then(() => true, () => false);
    if (!exists) await governor.post("/v1/resources", { code: r.code, owner: codeId(r.owner), schemaHash: ethers.id(`schema:${r.code}:v1`), condition: r.condition, personal: r.personal });
    say(`  resource ${r.code.padEnd(28)} owner ${r.owner.padEnd(10)} ${r.condition}${r.personal ? ", personal information" : ""}`);
  }

  h("2. Agreements co-signed; a citizen's consent granted for one purpose");
  const agreement = async (provider: DclClient, consumer: DclClient, resource: string, purpose: string, quota: number) => {
    const d = await consumer.post<{ id: string; typedData: ApiTypedData }>("/v1/agreements", {
      provider: provider.department, consumer: consumer.department, resource: codeId(resource), purpose, quota: String(quota),
      validFrom: now() - 60, validUntil: now() + 365 * 86400,
    });
    await cosign(`/v1/agreements/${d.id}/signatures`, d.typedData, provider, consumer);
    say(`  ${resource.padEnd(28)} ${codeOf(provider).padEnd(9)} → ${codeOf(consumer).padEnd(19)} quota ${quota.toLocaleString().padStart(9)} records  id ${d.id.slice(0, 18)}…`);
    return d.id;
  };
  const feeData = await agreement(water, tax, "res.water.fee-assessments", "collect water-resource fees", 1_000_000);
  const residents = await agreement(civil, yuzhong, "res.civil.residents", "district social-assistance eligibility check", 100_000);
  const small = await agreement(cad, tax, "res.cad.fee-assessments", "collect relocation fees (pilot)", 50);
  const refusedDraft = await tax.post("/v1/agreements", {
    provider: cad.department, consumer: tax.department, resource: codeId("res.cad.shelter-locations"), purpose: "x", quota: "1", validFrom: now(), validUntil: now() + 60,
  }).then(() => "accepted?!", (e: ApiError) => e.code);
  say(`  an agreement on a not-shareable resource is refused: ${refusedDraft}`);
  const citizen = new Wallet(Wallet.createRandom().privateKey);
  const citizenId = "50010319900307" + String(Math.floor(Math.random() * 9000) + 1000);
  const consentDraft = await civil.post<{ id: string; subject: string; typedData: ApiTypedData }>("/v1/consents", {
    subjectId: citizenId, grantee: yuzhong.department, resource: codeId("res.civil.residents"),
    purpose: "district social-assistance eligibility check", kind: "explicit", validUntil: now() + 180 * 86400,
    evidenceHash: sha("scanned consent form #2026-1107"), subjectSigner: citizen.address,
  });
  const subjectSig = await citizen.signTypedData(consentDraft.typedData.domain, consentDraft.typedData.types as never, consentDraft.typedData.message);
  await civil.post(`/v1/consents/${consentDraft.id}/signatures`, { signature: await civil.signTypedData(consentDraft.typedData), subjectSignature: subjectSig });
  say(`  consent ${consentDraft.id.slice(0, 18)}… granted (explicit, signed by the citizen's own key and the Civil Affairs Bureau)`);
  say(`  on chain the citizen is only the salted commitment ${consentDraft.subject.slice(0, 18)}…; the ID number is not stored anywhere`);

  h("3. Non-tax transfers: batches, reconciliation, a dispute");
  const payer = (i: number) => `91500000MA5U${String(100000 + i).padStart(6, "0")}`;
  const waterRecords = Array.from({ length: 120 }, (_, i) => {
    const volume = 1000 + ((i * 7919) % 50_000);
    return { payer: payer(i), permitNo: `QS500103-2026-${String(i).padStart(4, "0")}`, period: "202610", volumeM3: String(volume), rateFenPerM3: "15", amountFen: String(volume * 15) };
  });
  const wb = await water.post<{ id: string; batch: { totalFen: string; recordsRoot: string; payloadHash: string }; typedData: ApiTypedData }>("/v1/transfers", { to: tax.department, category: "water-resource-fee", period: 202610, records: waterRecords });
  await cosign(`/v1/transfers/${wb.id}/signatures`, wb.typedData, water, tax);
  say(`  water-resource fees 2026-10: ${waterRecords.length} records, ${fen(wb.batch.totalFen)}, root ${wb.batch.recordsRoot.slice(0, 18)}… co-signed by water and tax, on chain`);
  const results = await Promise.all(waterRecords.map(async (r, i) => {
    const { leafHash } = await tax.get<{ leafHash: string }>(`/v1/transfers/${wb.id}/records/${i}`);
    const paid = i % 17 === 0 ? "0" : r.amountFen;
    return { recordLeafHash: leafHash, paidFen: paid, paidDate: "20261118", voucherNo: `DZJKS${String(i).padStart(8, "0")}`, status: paid === "0" ? "unpaid" : "paid" };
  }));
  const rec = await tax.post<{ reconciliation: { collectedCount: string; collectedFen: string }; typedData: ApiTypedData }>(`/v1/transfers/${wb.id}/reconciliation`, { results });
  const recDone = await cosign(`/v1/transfers/${wb.id}/reconciliation/signatures`, rec.typedData, tax, water);
  say(`  reconciled: ${rec.reconciliation.collectedCount}/${waterRecords.length} records collected, ${fen(rec.reconciliation.collectedFen)}; co-signed by both`);
  say(`  reconciliation time, batch to co-signed reconciliation: ${recDone.seconds} s (the seeds report weeks by hand)`);

  const cadRecords = Array.from({ length: 12 }, (_, i) => ({
    payer: payer(500 + i), constructionPermitNo: `JZ500103-2026-${String(i).padStart(3, "0")}`, areaM2: String(8000 + i * 350), rateFenPerM2: "4000", amountFen: String((8000 + i * 350) * 4000),
  }));
  const cb = await cad.post<{ id: string; batch: { totalFen: string }; typedData: ApiTypedData }>("/v1/transfers", { to: tax.department, category: "civil-air-defence-relocation-fee", period: 202610, records: cadRecords });
  await cosign(`/v1/transfers/${cb.id}/signatures`, cb.typedData, cad, tax);
  say(`  civil-air-defence relocation fees: ${cadRecords.length} projects, ${fen(cb.batch.totalFen)}, co-signed, on chain`);
  const disputed = 7;
  const reason = "construction permit JZ500103-2026-007 was revoked before assessment";
  const dtd = await tax.post<ApiTypedData>(`/v1/transfers/${cb.id}/disputes/typed-data`, { leafIndex: disputed, reason });
  await tax.post(`/v1/transfers/${cb.id}/disputes`, { leafIndex: disputed, reason, signature: await tax.signTypedData(dtd) });
  const proof = await tax.get<{ leafHash: string; proof: string[] }>(`/v1/transfers/${cb.id}/records/${disputed}`);
  const cbOnChain = await tax.get<{ onChain: { recordsRoot: string } }>(`/v1/transfers/${cb.id}`);
  verifyInclusion(disputed, cadRecords.length, fromHex(proof.leafHash), proof.proof.map(fromHex), fromHex(cbOnChain.onChain.recordsRoot));
  say(`  the tax service disputed record ${disputed} ("${reason}"), proven in the batch by a ${proof.proof.length}-hash Merkle proof, checked on chain`);

  h("4. 10,000 data calls logged and anchored; refusals visible");
  const calls = 10_000;
  const batch = 1000;
  const bar = new SingleBar({ format: "  logging |{bar}| {value}/{total} calls", hideCursor: true }, Presets.shades_classic);
  bar.start(calls, 0);
  const t0 = Date.now();
  let served = 0;
  const productHash = sha("district eligibility data product, 2026-11");
  for (let i = 0; i < calls; i += batch) {
    const n = Math.min(batch, calls - i);
    const body = {
      calls: Array.from({ length: n }, (_, j) => {
        const k = i + j;
        if (k % 10 === 0) {
          return { agreementId: residents, recordCount: 1, requestHash: rand32(), responseHash: k === 0 ? productHash : rand32(), subjectId: citizenId };
        }
        // The tax service reports when each call was made and how long the water bureau took (timeliness).
        return { agreementId: feeData, recordCount: 1 + (k % 5), requestHash: rand32(), responseHash: rand32(), calledAt: now() - (k % 4), latencyMs: 40 + ((k * 37) % 400) };
      }),
    };
    // Calls are reported by their consumer: split the batch by consumer.
    const byYuzhong = body.calls.filter((c) => c.agreementId === residents);
    const byTax = body.calls.filter((c) => c.agreementId === feeData);
    for (const [who, cs] of [[yuzhong, byYuzhong], [tax, byTax]] as const) {
      if (cs.length === 0) continue;
      const r = await who.post<{ served: number }>("/v1/access", { calls: cs });
      served += r.served;
    }
    bar.update(i + n);
  }
  bar.stop();
  const seconds = (Date.now() - t0) / 1000;
  say(`  ${calls.toLocaleString()} calls logged in ${seconds.toFixed(1)} s (${Math.round(calls / seconds).toLocaleString()} calls/s through signed HTTP batches of ${batch}), ${served.toLocaleString()} served`);
  const overQuota = await tax.post<{ results: { outcome: string; refusalReason?: string; index: number }[] }>("/v1/access", { calls: [{ agreementId: small, recordCount: 51, requestHash: rand32(), responseHash: rand32() }] });
  say(`  a call for 51 records under the 50-record pilot agreement: ${overQuota.results[0].outcome} (${overQuota.results[0].refusalReason}), log index ${overQuota.results[0].index}`);
  const noConsent = await yuzhong.post<{ results: { outcome: string; refusalReason?: string; index: number }[] }>("/v1/access", { calls: [{ agreementId: residents, recordCount: 1, requestHash: rand32(), responseHash: rand32(), subjectId: "500103198001010011" }] });
  say(`  a call about a person with no consent: ${noConsent.results[0].outcome} (${noConsent.results[0].refusalReason}), log index ${noConsent.results[0].index}`);
  const revTd = (await civil.get<{ typedData: { revocation: ApiTypedData } }>(`/v1/consents/${consentDraft.id}`)).typedData.revocation;
  await new Promise((r) => setTimeout(r, 1100)); // the withdrawal takes effect from the next second on chain
  await publicPost(baseUrl, `/v1/consents/${consentDraft.id}/revoke-by-subject`, { signature: await citizen.signTypedData(revTd.domain, revTd.types as never, revTd.message) });
  const afterWithdrawal = await yuzhong.post<{ results: { outcome: string; refusalReason?: string; index: number }[] }>("/v1/access", { calls: [{ agreementId: residents, recordCount: 1, requestHash: rand32(), responseHash: rand32(), subjectId: citizenId }] });
  say(`  the citizen withdrew consent with their own key; the next call: ${afterWithdrawal.results[0].outcome} (${afterWithdrawal.results[0].refusalReason})`);
  const refusedIndices = [overQuota.results[0].index, noConsent.results[0].index, afterWithdrawal.results[0].index];
  let cp = await publicGet<{ treeSize: number; anchored: { treeSize: number; tx: string; block: number } | null }>(baseUrl, "/v1/log/checkpoint");
  for (let i = 0; i < 60 && (cp.anchored?.treeSize ?? 0) < cp.treeSize; i++) {
    await new Promise((r) => setTimeout(r, 500));
    cp = await publicGet(baseUrl, "/v1/log/checkpoint");
  }
  say(`  log: ${cp.treeSize.toLocaleString()} entries; anchored checkpoint of ${cp.anchored?.treeSize.toLocaleString()} entries in tx ${cp.anchored?.tx.slice(0, 18)}… block ${cp.anchored?.block}`);
  const trail = await regulator.get<{ entries: { index: number; entry: { refusalReason: string } }[] }>(`/v1/audit/entries?consumer=${yuzhong.department}&outcome=refused&limit=10`);
  say(`  the regulator sees ${trail.entries.length} refused calls by the district bureau: ${trail.entries.map((e) => `#${e.index} ${e.entry.refusalReason}`).join(", ")}`);
  const stats = await regulator.get<{ calls: { callsAsConsumer: number; refusedAsConsumer: number } }>(`/v1/audit/stats/${tax.department}`);
  say(`  tax service statistics: ${stats.calls.callsAsConsumer.toLocaleString()} calls, ${stats.calls.refusedAsConsumer} refused`);

  h("5. Evidence for the regulator; provenance for the exchange");
  const bundle = await regulator.post<Record<string, unknown> & { entries: unknown[]; checkpoint: { treeSize: number } }>("/v1/evidence", { indices: [0, 1, 2, ...refusedIndices] });
  const out = join(dataDir, "demo");
  await mkdir(out, { recursive: true });
  const bundleFile = join(out, "evidence-bundle.json");
  await writeFile(bundleFile, JSON.stringify(bundle, null, 2));
  say(`  evidence bundle: ${bundle.entries.length} entries with inclusion proofs against the anchored checkpoint of ${bundle.checkpoint.treeSize.toLocaleString()} entries`);
  // The verifier's trust root comes from the chain, not from the node: read from the pinned registry.
  const trustFile = join(out, "trust-root.json");
  const provider = await connectRpc(rpcUrl);
  const root = await exportTrustRoot(provider, deployment.addresses.registry).finally(() => provider.destroy());
  await writeFile(trustFile, JSON.stringify(root, null, 2) + "\n");
  say(`  saved to ${bundleFile}; the deployment's trust root (read off the chain from registry ${deployment.addresses.registry}) to ${trustFile}`);
  say(`  check it offline with: npm run dcl -- verify ${bundleFile} --trust ${trustFile}`);
  const prov = await wdex.get<{ transfers: { id: string }[]; accesses?: { entries: unknown[]; consents: unknown[]; agreements: unknown[] } }>(`/v1/provenance/${productHash}`);
  say(`  provenance of data product ${productHash.slice(0, 18)}…: ${prov.accesses?.entries.length ?? 0} logged call(s), under ${prov.accesses?.agreements.length ?? 0} agreement(s) and ${prov.accesses?.consents.length ?? 0} consent(s), each with its proof`);
  const provBatch = await wdex.get<{ transfers: { id: string; onChain: { reconciliation?: unknown } }[] }>(`/v1/provenance/${wb.batch.payloadHash}`);
  say(`  provenance of the water-fee data set ${wb.batch.payloadHash.slice(0, 18)}…: transfer ${provBatch.transfers[0].id.slice(0, 18)}…, co-signed and ${provBatch.transfers[0].onChain.reconciliation ? "reconciled" : "not reconciled"}`);

  h("6. The quarter's assessment of each department; the risk alerts");
  const quarter = quarterOf(now());
  const assessment = await regulator.get<Assessment>(`/v1/audit/assessments?period=${quarter.label}`);
  for (const line of assessmentTable(assessment, namesOf(["cq.bigdata", ...DEMO_DEPARTMENTS]))) say(`  ${line}`);
  const periodBundle = await regulator.get<PeriodBundle>(`/v1/audit/period-bundle?period=${quarter.label}&treeSize=${assessment.basis.treeSize}`);
  const periodFile = join(out, "period-bundle.json");
  const assessmentFile = join(out, "assessment.json");
  await writeFile(periodFile, JSON.stringify(periodBundle) + "\n");
  await writeFile(assessmentFile, JSON.stringify(assessment, null, 2) + "\n");
  const reproduced = await verifyPeriodBundle(periodBundle, { trust: root });
  const same = reproduced.ok && canonicalJson(reproduced.assessment) === canonicalJson(assessment);
  say(`  period bundle of ${periodBundle.entries.length.toLocaleString()} entries (log [${periodBundle.range.begin}, ${periodBundle.range.end}) proven against the anchored checkpoint of ${periodBundle.checkpoint.treeSize.toLocaleString()}): ` +
    (same ? "the assessment recomputed from it alone is exactly the regulator's" : `NOT reproduced: ${reproduced.checks.filter((c) => !c.ok).map((c) => c.detail).join("; ")}`));
  say(`  reproduce it offline with: npm run dcl -- assess --bundle ${periodFile} --trust ${trustFile} --against ${assessmentFile}`);
  let raised: AlertView[] = [];
  for (let i = 0; i < 100 && raised.length === 0; i++) {
    raised = (await regulator.get<{ alerts: AlertView[] }>(`/v1/alerts?agreement=${small}`)).alerts;
    if (raised.length === 0) await new Promise((r) => setTimeout(r, 200));
  }
  const named = (text: string) => [...namesOf(["cq.bigdata", ...DEMO_DEPARTMENTS])].reduce((t, [id, code]) => t.split(id).join(code), text.split(`agreement ${small}`).join("the pilot agreement").split(small).join("the pilot agreement"));
  for (const a of raised) say(`  alert ${a.rule} (${a.severity}, #${a.seq}): ${named(a.message)}`);
  if (raised.length === 0) say("  no alert was raised for the over-quota call (is the node deriving alerts?)");
  const totals = (await regulator.get<{ totals: Record<string, number> }>("/v1/alerts?limit=1")).totals;
  say(`  alerts on this node so far: ${Object.entries(totals).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`).join(", ") || "none"} — GET /v1/alerts, the stream GET /v1/alerts/stream, DCL_ALERT_WEBHOOK`);
  say("\nDone. Everything above went through the HTTP API with signed requests.");
}

async function publicPost(baseUrl: string, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(baseUrl + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new ApiError(res.status, json?.error?.code, json?.error?.message);
  return json;
}

run().catch((err) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
