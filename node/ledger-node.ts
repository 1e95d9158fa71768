/**
 * One ledger node, assembled: the LevelDB store, the verifiable access log, the chain client,
 * the indexer, the anchoring worker and the services (agreements, consents, transfers, access
 * logging, evidence). The API puts HTTP over this object; the CLI and scripts use it directly.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { Wallet, HDNodeWallet } from "ethers";
import { Level } from "level";
import type { Logger } from "pino";
import { AccessLedger } from "./access/access-ledger";
import { AuditIndex } from "./access/audit-index";
import { AssessmentService } from "./assessment/assessment-service";
import { AlertEngine } from "./alerts/alert-engine";
import type { AlertConfig } from "./alerts/alert";
import { AlertWebhook } from "./alerts/webhook";
import { ReceiptStore } from "./access/receipt-store";
import { AgreementService } from "./agreements/agreement-service";
import { Anchorer } from "./anchor/anchorer";
import { ChainClient } from "./chain/client";
import type { DclAddresses } from "./chain/deploy";
import { codeId } from "./chain/ids";
import { ConsentService } from "./consents/consent-service";
import { EvidenceService } from "./evidence/evidence-service";
import { GovernanceService } from "./governance/governance-service";
import { Indexer } from "./indexer/indexer";
import { CheckpointSigner } from "./log/checkpoint-signer";
import { ThreadedSigner } from "./keys/threaded-signer";
import { MerkleLog } from "./log/merkle-log";
import { RecentEntries } from "./log/recent-entries";
import { CheckpointRecord } from "./integrity/checkpoint-record";
import { LogIntegrity } from "./integrity/log-integrity";
import { chainAnchor, checkStore, StoreIntegrityError } from "./integrity/store-check";
import { StoreFaults } from "./store/fault-injection";
import { StoreGuard } from "./store/store-guard";
import { PeerMonitor, type Peer } from "./peers/peer-monitor";
import { legacySubjectPepper, loadOrCreateSubjectPepper } from "./subjects/subject-pepper";
import { SubjectSecrets } from "./subjects/subject-secrets";
import { TransferService } from "./transfers/transfer-service";

/** Everything a ledger node needs to run. */
export interface LedgerNodeOptions {
  dataDir: string;
  rpcUrl: string;
  chainId: bigint;
  addresses: DclAddresses;
  /** First block of the deployment (the indexer starts there). */
  startBlock: number;
  operator: Wallet | HDNodeWallet;
  /** Code of the log this node operates, e.g. "log.cq.bigdata.0". */
  logCode: string;
  anchorIntervalMs: number;
  anchorEveryEntries: number;
  confirmations: number;
  indexerPollMs: number;
  logger?: Logger;
  /** The subject pepper file (32 random bytes, created on a fresh store); default `<dataDir>/keys/subject-pepper`. */
  subjectPepperFile?: string;
  /** Most entries a period bundle holds (default 250,000). */
  periodBundleMaxEntries?: number;
  /** For fault drills and tests only: while this file exists, every store write fails (DCL_STORE_FAULT_FILE). */
  storeFaultFile?: string;
  /** How often a store that cannot write is probed with a write (ms, default 1,000). */
  storeProbeMs?: number;
  /** Risk alerts: thresholds (the anchor interval is `anchorIntervalMs`), and a webhook to deliver them to. */
  alerts?: { config?: Partial<Omit<AlertConfig, "anchorIntervalMs">>; webhook?: { url: string; retryMs?: number }; pollMs?: number };
  /** Runs after each mined transaction (the embedded chain persists its state). */
  afterMined?: () => Promise<void>;
  /** For a chain that can lose the blocks after its last written state (the embedded chain): the indexer applies none beyond it (IndexerOptions.durable). */
  durableChain?: { block(): number; persist(): Promise<void> };
  /** How long a relayed request waits for its transaction before it is answered as pending (ms, default 2,000). */
  relayWaitMs?: number;
  /** How long a sent transaction may go unmined while blocks pass before it is signed again with higher fees (ms, default 120,000; 0: never). */
  relayBumpAfterMs?: number;
  /** The most a replacement transaction may offer per gas (wei; default: no limit). */
  relayMaxFeePerGas?: bigint;
}

/** A running ledger node. */
export class LedgerNode {
  /** The monitor of peer nodes' logs, when `monitorPeers` made one. */
  peerMonitor?: PeerMonitor;
  /** The store's write boundary: whether it can write now, and the switch of injected faults (drills, tests). */
  storeGuard!: StoreGuard;
  /** Whether the log diverged from what the node anchored and signed (writes are refused then: LOG_DIVERGED). */
  integrity!: LogIntegrity;
  /** The last checkpoint the node signed of its log, kept in its store for the start-up check. */
  checkpointRecord!: CheckpointRecord;
  /** The operator key signing each commit's receipts on the second core. */
  receiptSigner!: ThreadedSigner;

  private constructor(
    readonly options: LedgerNodeOptions,
    readonly db: Level<string, unknown>,
    readonly log: MerkleLog,
    readonly client: ChainClient,
    readonly indexer: Indexer,
    readonly anchorer: Anchorer,
    readonly audit: AuditIndex,
    readonly access: AccessLedger,
    readonly agreements: AgreementService,
    readonly consents: ConsentService,
    readonly transfers: TransferService,
    readonly checkpoints: CheckpointSigner,
    readonly evidence: EvidenceService,
    readonly governance: GovernanceService,
    readonly assessments: AssessmentService,
    readonly alerts: AlertEngine,
    readonly alertWebhook?: AlertWebhook,
  ) {}

  /** bytes32 id of this node's log. */
  get logId(): string {
    return codeId(this.options.logCode);
  }

  /** Opens the store and assembles the node (nothing runs until `start()`). */
  static async open(o: LedgerNodeOptions): Promise<LedgerNode> {
    await mkdir(o.dataDir, { recursive: true });
    const db = new Level<string, unknown>(join(o.dataDir, "node"), { valueEncoding: "json" });
    // Every write of every sublevel passes the guard: a store that cannot write refuses instead of acknowledging.
    const storeGuard = new StoreGuard(db, { faults: new StoreFaults(o.storeFaultFile), probeMs: o.storeProbeMs, logger: o.logger?.child({ module: "store" }) }).install();
    await db.open();
    // The subject pepper is a secret of its own (a 32-byte file); a store made when it was derived from the operator key is migrated.
    const { pepper } = await loadOrCreateSubjectPepper({
      file: o.subjectPepperFile ?? join(o.dataDir, "keys", "subject-pepper"), db,
      legacy: () => legacySubjectPepper(o.operator.privateKey), logger: o.logger?.child({ module: "subjects" }),
    }).catch(async (err: unknown) => {
      await db.close();
      throw err;
    });
    const log = await MerkleLog.open(db.sublevel("log") as never);
    const client = new ChainClient({ rpcUrl: o.rpcUrl, chainId: o.chainId, addresses: o.addresses, pollingMs: 250, afterMined: o.afterMined, relayWaitMs: o.relayWaitMs, bumpAfterMs: o.relayBumpAfterMs, maxFeePerGas: o.relayMaxFeePerGas }, o.operator);
    // Every transaction of the operator key goes through the outbox; relays a previous run left open are resumed now.
    await client.openOutbox(db, o.logger?.child({ module: "outbox" }));
    // A store that was lost, truncated or altered is refused: it must agree with its signed checkpoint and the chain's anchor.
    const checkpointRecord = new CheckpointRecord(db);
    const checkIntegrity = () => checkStore({ db, log, operator: o.operator.address, anchor: chainAnchor(client.reader.anchors, codeId(o.logCode)) });
    const startReport = await checkIntegrity();
    if (!startReport.ok) {
      o.logger?.error({ problems: startReport.problems, size: startReport.size, chain: startReport.chain }, "store check failed: refusing to serve");
      client.destroy();
      await log.close();
      await db.close();
      throw new StoreIntegrityError(startReport, `the store ${join(o.dataDir, "node")}`);
    }
    if (!startReport.chain.checked) o.logger?.warn({ reason: startReport.chain.reason, size: startReport.size }, "store checked against its signed checkpoint only: the chain could not be asked (the anchorer checks again when it can)");
    else o.logger?.info({ size: startReport.size, anchored: startReport.chain.anchored.size, checkpoint: startReport.checkpoint?.size ?? null }, "store checked against its signed checkpoint and the chain's anchor");
    const integrity = new LogIntegrity({ check: checkIntegrity, logger: o.logger?.child({ module: "integrity" }) });
    const indexer = new Indexer(db, {
      provider: client.provider,
      addresses: o.addresses,
      confirmations: o.confirmations,
      startBlock: o.startBlock,
      pollMs: o.indexerPollMs,
      durable: o.durableChain,
    });
    const audit = new AuditIndex(db, { logger: o.logger?.child({ module: "audit" }) });
    await audit.open(log.size(), (i) => log.getEntry(i));
    const origin = `dcl/${o.chainId}/${o.logCode}`;
    const subjects = new SubjectSecrets(db, pepper);
    const isErased = async (commitment: string) => (await subjects.erasure(commitment)) !== undefined;
    const logId = codeId(o.logCode);
    const receiptSigner = new ThreadedSigner(o.operator, undefined, (restarted) =>
      o.logger?.warn({ restarted }, `the receipt signer's worker did not answer in time: terminated, its signatures made on the main thread${restarted ? ", a new worker started" : " from now on"}`));
    const recent = new RecentEntries();
    const access = new AccessLedger({ log, indexer, audit, signer: receiptSigner, origin, isErased, receiptStore: new ReceiptStore(db, log), logId, recent,
      onReceiptNotKept: (err) => o.logger?.warn({ err }, "a receipt batch was not kept: evidence will carry a fresh receipt for its entries"),
    });
    const anchorer = new Anchorer({
      log,
      client,
      logId,
      intervalMs: o.anchorIntervalMs,
      everyEntries: o.anchorEveryEntries,
      usage: async () => access.usage(),
      logger: o.logger?.child({ module: "anchorer" }),
      onAnchor: (r) => void self?.keepCheckpoint(r.treeSize),
      onConflict: (err) => void integrity.onConflict(err),
    });
    const agreements = new AgreementService(db, client, indexer, o.chainId, o.addresses, logId);
    const consents = new ConsentService(db, client, indexer, subjects, o.chainId, o.addresses);
    const transfers = new TransferService(db, client, indexer, o.chainId, o.addresses);
    const checkpoints = new CheckpointSigner(log, o.operator, origin);
    const evidence = new EvidenceService({
      log, indexer, audit, anchorer, access, agreements, consents, transfers, checkpoints, sealer: o.operator, logId, chainId: o.chainId, addresses: o.addresses,
    });
    const assessments = new AssessmentService({
      log, indexer, agreements, checkpoints, anchorer, sealer: o.operator, logId, chainId: o.chainId, addresses: o.addresses, maxBundleEntries: o.periodBundleMaxEntries,
    });
    let self: LedgerNode | undefined;
    const alerts = new AlertEngine({
      db, log, recent, indexer, logId, config: { ...o.alerts?.config, anchorIntervalMs: o.anchorIntervalMs },
      peers: () => self?.peerMonitor, logger: o.logger?.child({ module: "alerts" }), divergence: () => integrity.divergence(),
    });
    await alerts.open();
    const hook = o.alerts?.webhook;
    const alertWebhook = hook ? new AlertWebhook({ url: hook.url, retryMs: hook.retryMs, origin, signer: o.operator, engine: alerts, db, logger: o.logger?.child({ module: "alert-webhook" }) }) : undefined;
    await alertWebhook?.open();
    self = new LedgerNode(o, db, log, client, indexer, anchorer, audit, access, agreements, consents, transfers, checkpoints, evidence, new GovernanceService(client, indexer, o.chainId, o.addresses), assessments, alerts, alertWebhook);
    Object.assign(self, { storeGuard, integrity, checkpointRecord, receiptSigner });
    await self.keepCheckpoint();
    return self;
  }

  /** Signs and records a checkpoint of `size` entries (default all) if larger than the one recorded; a store that cannot write skips it. */
  async keepCheckpoint(size: number = this.log.size()): Promise<void> {
    if (size === 0) return;
    try {
      await this.checkpointRecord.keep(await this.checkpoints.sign(size));
    } catch (err) {
      this.options.logger?.warn({ err: { code: (err as { code?: string }).code, message: (err as Error).message }, size }, "signed checkpoint not recorded");
    }
  }

  /**
   * Makes this node watch peer nodes' logs for forks (optional: a node without peers has none).
   * The monitor keeps its state in this node's store and reads this node's indexer; `close()` stops it.
   */
  monitorPeers(peers: Peer[], options: { timeoutMs?: number } = {}): PeerMonitor {
    this.peerMonitor = new PeerMonitor({
      db: this.db, indexer: this.indexer, chainId: this.options.chainId, peers,
      timeoutMs: options.timeoutMs, logger: this.options.logger?.child({ module: "peers" }),
    });
    return this.peerMonitor;
  }

  /** Starts following the chain, anchoring, and deriving (and delivering) alerts. */
  start(): void {
    this.indexer.start();
    this.anchorer.start();
    this.alerts.start(this.options.alerts?.pollMs);
    this.alertWebhook?.start();
  }

  /** Stops the workers and closes the store (acknowledged appends are already on disk). */
  async close(): Promise<void> {
    await this.alertWebhook?.stop();
    await this.alerts.stop();
    await this.peerMonitor?.stop();
    await this.anchorer.stop();
    await this.indexer.stop();
    await this.keepCheckpoint();
    await this.log.close();
    // The projection's keys written behind; a failure was logged by the index, and the next open catches up from the log.
    await this.audit.settled().catch(() => undefined);
    await this.audit.close();
    await this.client.close();
    await this.receiptSigner.close();
    await this.storeGuard.close();
    await this.db.close();
  }
}
