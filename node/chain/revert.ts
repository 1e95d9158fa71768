/**
 * Maps a failed contract call to the name of the custom error the contracts reverted with. ethers
 * decodes the error with the called contract's ABI; an error raised by another contract on the way
 * (the catalog, inside an agreement activation) is decoded here with every dcl ABI. Never matches on
 * message text.
 */
import { Interface, isCallException } from "ethers";
import {
  ConsentRegistry__factory,
  DepartmentRegistry__factory,
  LogAnchors__factory,
  NonTaxTransfers__factory,
  ResourceCatalog__factory,
  SharingAgreements__factory,
} from "../../typechain-types";

const interfaces: Interface[] = [
  DepartmentRegistry__factory,
  ResourceCatalog__factory,
  LogAnchors__factory,
  SharingAgreements__factory,
  ConsentRegistry__factory,
  NonTaxTransfers__factory,
].map((f) => new Interface(f.abi));

/** A decoded revert: the custom error's name and its arguments. */
export interface DecodedRevert {
  name: string;
  args: unknown[];
}

/** The custom error `err` carries, if it is a contract revert that any dcl ABI can decode. */
export function decodeRevert(err: unknown): DecodedRevert | undefined {
  // A relay the outbox found refused carries the error it decoded (outbox.ts, RelayFailedError).
  if (err instanceof Error && err.name === "RelayFailedError") return (err as Error & { revert?: DecodedRevert }).revert;
  if (!isCallException(err)) return undefined;
  if (err.revert) return { name: err.revert.name, args: [...err.revert.args] };
  const data = err.data;
  if (!data) return undefined;
  for (const iface of interfaces) {
    const parsed = iface.parseError(data);
    if (parsed) return { name: parsed.name, args: [...parsed.args] };
  }
  return undefined;
}
