/**
 * The one module that reads the environment. Every setting has a default that works on one
 * machine; `loadConfig` validates them all (zod) and hands a typed object down. The README's
 * configuration table lists the same variables.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { parseUnits } from "ethers";

const int = (def: number) => z.coerce.number().int().nonnegative().default(def);

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text);
    return (u.protocol === "http:" || u.protocol === "https:") && u.search === "" && u.hash === "";
  } catch {
    return false;
  }
}

const EnvSchema = z.object({
  DCL_DATA_DIR: z.string().default("./data"),
  DCL_HOST: z.string().default("127.0.0.1"),
  DCL_PORT: int(8080),
  /** JSON-RPC URL of an external EVM chain; empty: the embedded local chain (anvil with persisted state). */
  DCL_RPC_URL: z.string().default(""),
  DCL_CHAIN_ID: int(31337),
  /** Port of the embedded chain. */
  DCL_CHAIN_PORT: int(8545),
  /** JSON file with the contract addresses (written by the deploy script); default `<data>/deployment.json`. */
  DCL_DEPLOYMENT: z.string().default(""),
  /** Keystore of this node's operator key; default `<data>/keys/operator.json`. */
  DCL_KEYSTORE: z.string().default(""),
  DCL_KEYSTORE_PASSWORD: z.string().default(""),
  DCL_KEYSTORE_PASSWORD_FILE: z.string().default(""),
  /** The subject pepper (32 random bytes, a secret of its own); default `<data>/keys/subject-pepper`, created on a fresh store. */
  DCL_SUBJECT_PEPPER_FILE: z.string().default(""),
  /** Code of the log this node operates (its on-chain id is keccak256 of the code). */
  DCL_LOG_CODE: z.string().default("log.cq.bigdata.0"),
  /**
   * (npm run deploy) Governance council: its members' addresses, comma-separated. When set, the deploy
   * hands the registry's GOVERNOR and admin roles to a GovernanceCouncil of these members and the
   * operator key renounces them: the node's key then holds no governance power.
   */
  DCL_COUNCIL: z
    .string()
    .default("")
    .transform((s) => s.split(",").map((a) => a.trim()).filter((a) => a !== ""))
    .refine((a) => a.every((x) => /^0x[0-9a-fA-F]{40}$/.test(x)), { message: "must be comma-separated 0x-hex addresses" })
    .refine((a) => new Set(a.map((x) => x.toLowerCase())).size === a.length, { message: "names a member twice" }),
  /** (npm run deploy) Signatures of distinct members each council act needs; default: a majority. */
  DCL_COUNCIL_THRESHOLD: z.string().default("").refine((s) => s === "" || /^[1-9][0-9]?$/.test(s), { message: "must be a number from 1" }),
  /** Code of the department operating the log (the node's key must be one of its signers). */
  DCL_OPERATOR_DEPARTMENT: z.string().default("cq.bigdata"),
  DCL_ANCHOR_INTERVAL_MS: int(5000),
  DCL_ANCHOR_EVERY_ENTRIES: int(10_000),
  /** How long a request that relays a transaction waits for it to be mined before answering 202 with the relay (ms). */
  DCL_RELAY_WAIT_MS: int(2000),
  /** How long a sent transaction may go unmined while blocks pass before it is signed again with higher fees (ms; 0: never). */
  DCL_RELAY_BUMP_AFTER_MS: int(120_000),
  /** The most a replacement transaction may offer per gas, in gwei (decimal; empty: no limit). */
  DCL_RELAY_MAX_FEE_GWEI: z.string().default("").refine((s) => s === "" || /^(0|[1-9][0-9]{0,11})(\.[0-9]{1,9})?$/.test(s), { message: "must be a decimal number of gwei (up to 9 decimals)" }),
  /** Blocks the indexer stays behind the head; 0 on the embedded chain, more on a real one. */
  DCL_CONFIRMATIONS: int(0),
  DCL_INDEXER_POLL_MS: int(500),
  /** How far a signed request's timestamp may be from the server's clock (seconds). */
  DCL_AUTH_MAX_SKEW_S: int(300),
  DCL_BODY_LIMIT_BYTES: int(4 * 1024 * 1024),
  /** Requests per minute per department (charged after authentication). */
  DCL_RATE_LIMIT_PER_MIN: int(6000),
  /** Requests per minute per client address, before authentication. */
  DCL_IP_RATE_LIMIT_PER_MIN: int(60_000),
  /** Peer ledger nodes to watch for forks: their API base URLs, comma-separated (empty: none). */
  DCL_PEERS: z
    .string()
    .default("")
    .transform((s) => s.split(",").map((u) => u.trim()).filter((u) => u !== "").map((u) => u.replace(/\/+$/, "")))
    .refine((urls) => urls.every(isHttpUrl), { message: "must be comma-separated http(s) URLs of peer APIs" })
    .refine((urls) => new Set(urls).size === urls.length, { message: "names a peer twice" }),
  /** How often each peer's checkpoint is checked. */
  DCL_PEER_POLL_MS: z.coerce.number().int().min(100).default(10_000),
  /** Risk alerts: a webhook to POST each alert to (signed by the operator; empty: none). */
  DCL_ALERT_WEBHOOK: z.string().default("").refine((u) => u === "" || /^https?:\/\/[^\s]+$/.test(u), { message: "must be an http(s) URL or empty" }),
  /** quota_warning at this share of an agreement's quota (percent). */
  DCL_ALERT_QUOTA_WARN_PERCENT: z.coerce.number().int().min(1).max(100).default(80),
  /** Length of the windows of refusal_rate, consent_refusals and outside_window (seconds). */
  DCL_ALERT_WINDOW_S: z.coerce.number().int().min(1).default(3600),
  /** refusal_rate above this share of a department's calls in a window (percent) ... */
  DCL_ALERT_REFUSAL_RATE_PERCENT: z.coerce.number().int().min(0).max(100).default(20),
  /** ... of at least this many calls. */
  DCL_ALERT_REFUSAL_MIN_CALLS: z.coerce.number().int().min(1).default(20),
  /** consent_refusals at this many CONSENT_MISSING / SUBJECT_ERASED refusals of a department in a window. */
  DCL_ALERT_CONSENT_REFUSALS: z.coerce.number().int().min(1).default(3),
  /** Most entries one period bundle holds (GET /v1/audit/period-bundle). */
  DCL_PERIOD_BUNDLE_MAX_ENTRIES: z.coerce.number().int().min(1).default(250_000),
  /** For fault drills and tests only: while this file exists, every write to the node's store fails (EIO). */
  DCL_STORE_FAULT_FILE: z.string().default(""),
  /** Where the demo and the CLI find the API; default http://<DCL_HOST>:<DCL_PORT>. */
  DCL_API_URL: z.string().default(""),
  DCL_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** The validated configuration of a dcl node and its API. */
export interface Config {
  dataDir: string;
  host: string;
  port: number;
  rpcUrl: string;
  embeddedChain: boolean;
  chainId: bigint;
  chainPort: number;
  deploymentFile: string;
  keystore: string;
  password: { password?: string; passwordFile?: string };
  subjectPepperFile: string;
  logCode: string;
  operatorDepartment: string;
  /** Governance council to hand the registry to at deployment (`npm run deploy`), if any. */
  council?: { members: string[]; threshold: number };
  anchorIntervalMs: number;
  anchorEveryEntries: number;
  relayWaitMs: number;
  relayBumpAfterMs: number;
  /** In wei, when DCL_RELAY_MAX_FEE_GWEI is set. */
  relayMaxFeePerGas?: bigint;
  confirmations: number;
  indexerPollMs: number;
  authMaxSkewSeconds: number;
  bodyLimitBytes: number;
  rateLimitPerMinute: number;
  ipRateLimitPerMinute: number;
  logLevel: string;
  apiUrl: string;
  /** Risk alerts: rule thresholds and the webhook (DCL_ALERT_*). */
  alerts: {
    rules: { quotaWarnPercent: number; windowSeconds: number; refusalRatePercent: number; refusalMinCalls: number; consentRefusals: number };
    webhook?: string;
  };
  periodBundleMaxEntries: number;
  /** For fault drills and tests only: while this file exists every store write fails (DCL_STORE_FAULT_FILE). */
  storeFaultFile?: string;
  /** Peer APIs whose logs this node watches (DCL_PEERS). */
  peers: string[];
  peerPollMs: number;
}

/** Validates `env` (default: process.env) into a Config; throws naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.DCL_DATA_DIR);
  return {
    dataDir,
    host: e.DCL_HOST,
    port: e.DCL_PORT,
    rpcUrl: e.DCL_RPC_URL || `http://127.0.0.1:${e.DCL_CHAIN_PORT}`,
    embeddedChain: e.DCL_RPC_URL === "",
    chainId: BigInt(e.DCL_CHAIN_ID),
    chainPort: e.DCL_CHAIN_PORT,
    deploymentFile: e.DCL_DEPLOYMENT || resolve(dataDir, "deployment.json"),
    keystore: e.DCL_KEYSTORE || resolve(dataDir, "keys", "operator.json"),
    password: { password: e.DCL_KEYSTORE_PASSWORD || undefined, passwordFile: e.DCL_KEYSTORE_PASSWORD_FILE || undefined },
    subjectPepperFile: e.DCL_SUBJECT_PEPPER_FILE ? resolve(e.DCL_SUBJECT_PEPPER_FILE) : resolve(dataDir, "keys", "subject-pepper"),
    logCode: e.DCL_LOG_CODE,
    operatorDepartment: e.DCL_OPERATOR_DEPARTMENT,
    ...(e.DCL_COUNCIL.length ? { council: { members: e.DCL_COUNCIL, threshold: e.DCL_COUNCIL_THRESHOLD ? Number(e.DCL_COUNCIL_THRESHOLD) : Math.floor(e.DCL_COUNCIL.length / 2) + 1 } } : {}),
    anchorIntervalMs: e.DCL_ANCHOR_INTERVAL_MS,
    anchorEveryEntries: e.DCL_ANCHOR_EVERY_ENTRIES,
    relayWaitMs: e.DCL_RELAY_WAIT_MS,
    relayBumpAfterMs: e.DCL_RELAY_BUMP_AFTER_MS,
    ...(e.DCL_RELAY_MAX_FEE_GWEI ? { relayMaxFeePerGas: parseUnits(e.DCL_RELAY_MAX_FEE_GWEI, "gwei") } : {}),
    confirmations: e.DCL_CONFIRMATIONS,
    indexerPollMs: e.DCL_INDEXER_POLL_MS,
    authMaxSkewSeconds: e.DCL_AUTH_MAX_SKEW_S,
    bodyLimitBytes: e.DCL_BODY_LIMIT_BYTES,
    rateLimitPerMinute: e.DCL_RATE_LIMIT_PER_MIN,
    ipRateLimitPerMinute: e.DCL_IP_RATE_LIMIT_PER_MIN,
    logLevel: e.DCL_LOG_LEVEL,
    apiUrl: e.DCL_API_URL || `http://${e.DCL_HOST}:${e.DCL_PORT}`,
    alerts: {
      rules: {
        quotaWarnPercent: e.DCL_ALERT_QUOTA_WARN_PERCENT, windowSeconds: e.DCL_ALERT_WINDOW_S, refusalRatePercent: e.DCL_ALERT_REFUSAL_RATE_PERCENT,
        refusalMinCalls: e.DCL_ALERT_REFUSAL_MIN_CALLS, consentRefusals: e.DCL_ALERT_CONSENT_REFUSALS,
      },
      ...(e.DCL_ALERT_WEBHOOK ? { webhook: e.DCL_ALERT_WEBHOOK } : {}),
    },
    periodBundleMaxEntries: e.DCL_PERIOD_BUNDLE_MAX_ENTRIES,
    ...(e.DCL_STORE_FAULT_FILE ? { storeFaultFile: resolve(e.DCL_STORE_FAULT_FILE) } : {}),
    peers: e.DCL_PEERS,
    peerPollMs: e.DCL_PEER_POLL_MS,
  };
}
