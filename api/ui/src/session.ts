/**
 * Signing in: a department's encrypted keystore (the JSON file `npm start` writes under
 * data/keys/demo/) is decrypted here with the password typed in; the key stays in this page's memory
 * (never stored, never sent), and every request is signed with it. Reloading the page or signing out
 * forgets it. Session keys (a short-lived key certified by the department's key) are not offered by
 * this node yet, so requests are signed with the department's key itself.
 */
import { Wallet, type HDNodeWallet, type TypedDataDomain, type TypedDataField } from "ethers";
import { signedRequest, type SigningIdentity } from "./api";
import { store } from "./store";

/** Who is signed in. */
export interface Session extends SigningIdentity {
  roles: ("governor" | "regulator" | "exchange")[];
  signTypedData(td: TypedData): Promise<string>;
}

/** EIP-712 typed data as the API returns it. */
export interface TypedData {
  domain: Record<string, unknown>;
  types: Record<string, { name: string; type: string }[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

export const session = store<Session | undefined>(undefined);

/** Why signing in failed, in words for the person signing in. */
export class SignInError extends Error {
  constructor(readonly reason: "not-keystore" | "wrong-password") {
    super(reason);
  }
}

/** Decrypts `keystoreJson` with `password` in the page, checks with the server that the key signs for `department`, and signs in. */
export async function signIn(keystoreJson: string, password: string, department: string, onProgress?: (share: number) => void): Promise<Session> {
  try {
    const parsed = JSON.parse(keystoreJson);
    if (!parsed || typeof parsed !== "object" || !("crypto" in parsed || "Crypto" in parsed)) throw new Error("no crypto section");
  } catch {
    throw new SignInError("not-keystore");
  }
  let wallet: Wallet | HDNodeWallet;
  try {
    wallet = await Wallet.fromEncryptedJson(keystoreJson, password, onProgress);
  } catch {
    throw new SignInError("wrong-password");
  }
  const identity = {
    department: department.toLowerCase(),
    address: wallet.address,
    signMessage: (m: string) => wallet.signMessage(m),
  };
  // The server checks the signature, that the key is a current signer of the department, and says which roles it holds.
  const who = await signedRequest<{ department: string; signer: string; roles: Session["roles"] }>(identity, "GET", "/v1/whoami");
  const s: Session = {
    ...identity,
    roles: who.roles,
    signTypedData: (td) => wallet.signTypedData(td.domain as TypedDataDomain, td.types as Record<string, TypedDataField[]>, td.message),
  };
  session.set(s);
  return s;
}

/** Forgets the key. */
export function signOut(): void {
  session.set(undefined);
}
