/**
 * Signing keys live in encrypted JSON keystores (the Web3 Secret Storage format, scrypt + AES-128-CTR,
 * as ethers writes them), unlocked with a password from the environment or a file. A key never
 * appears in source code, configuration or logs: only its address does.
 */
import { readFile } from "node:fs/promises";
import { encryptKeystoreJson, Wallet, type HDNodeWallet } from "ethers";
import { writeFileWhole } from "../runtime/whole-file";

/** Where the keystore password comes from: the value itself (from an env var) or a file holding it. */
export interface PasswordSource {
  password?: string;
  passwordFile?: string;
}

/** scrypt work factor of new keystores: 2^17 as geth's "standard"; tests may lower it. */
export const DEFAULT_SCRYPT_N = 1 << 17;

/** Error of a missing or unreadable key, with a stable code and no secret in its message. */
export class KeystoreError extends Error {
  constructor(
    readonly code: "KEYSTORE_NO_PASSWORD" | "KEYSTORE_UNREADABLE" | "KEYSTORE_BAD_PASSWORD",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "KeystoreError";
  }
}

/** Resolves the password from `source`; a password file's trailing newline is dropped. */
export async function readPassword(source: PasswordSource): Promise<string> {
  if (source.password !== undefined && source.password !== "") return source.password;
  if (source.passwordFile) {
    try {
      return (await readFile(source.passwordFile, "utf8")).replace(/\r?\n$/, "");
    } catch (err) {
      throw new KeystoreError("KEYSTORE_NO_PASSWORD", `cannot read password file ${source.passwordFile}`, { cause: err });
    }
  }
  throw new KeystoreError("KEYSTORE_NO_PASSWORD", "no keystore password: set DCL_KEYSTORE_PASSWORD or DCL_KEYSTORE_PASSWORD_FILE");
}

/** Creates a new random key, writes it encrypted to `path` (mode 0600) and returns it. */
export async function createKeystore(
  path: string,
  password: string,
  scryptN: number = DEFAULT_SCRYPT_N,
): Promise<Wallet> {
  const wallet = new Wallet(Wallet.createRandom().privateKey);
  const json = await encryptKeystoreJson(
    { address: wallet.address, privateKey: wallet.privateKey },
    password,
    { scrypt: { N: scryptN } },
  );
  // Whole and synced: a power cut must not leave an empty keystore for a key already made the department's signer on chain.
  await writeFileWhole(path, json, { mode: 0o600, exclusive: true });
  return wallet;
}

/** Unlocks the keystore at `path` with `password`. */
export async function loadKeystore(path: string, password: string): Promise<Wallet | HDNodeWallet> {
  let json: string;
  try {
    json = await readFile(path, "utf8");
  } catch (err) {
    throw new KeystoreError("KEYSTORE_UNREADABLE", `cannot read keystore ${path}`, { cause: err });
  }
  try {
    return await Wallet.fromEncryptedJson(json, password);
  } catch (err) {
    throw new KeystoreError("KEYSTORE_BAD_PASSWORD", `cannot decrypt keystore ${path}: wrong password or corrupt file`, {
      cause: err,
    });
  }
}

/** Unlocks the keystore at `path`, creating it first when absent. */
export async function loadOrCreateKeystore(
  path: string,
  password: string,
  scryptN: number = DEFAULT_SCRYPT_N,
): Promise<Wallet | HDNodeWallet> {
  try {
    await readFile(path);
  } catch {
    return createKeystore(path, password, scryptN);
  }
  return loadKeystore(path, password);
}
