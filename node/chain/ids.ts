/** How human-readable codes become the bytes32 ids used on chain. */
import { id as keccakUtf8 } from "ethers";

/** bytes32 id of a department, resource, log or category code: keccak256 of its UTF-8 code. */
export function codeId(code: string): string {
  return keccakUtf8(code);
}

/** Role hashes of the department registry (keccak256 of the role name). */
export const ROLES = {
  governor: keccakUtf8("GOVERNOR"),
  regulator: keccakUtf8("REGULATOR"),
  exchange: keccakUtf8("EXCHANGE"),
} as const;

/** Levels of government (the registry's enum order). */
export enum DepartmentLevel {
  National = 0,
  City = 1,
  District = 2,
  Town = 3,
  Village = 4,
}

/** Sharing conditions of a resource (the catalog's enum order). */
export enum SharingCondition {
  Unconditional = 0,
  Conditional = 1,
  NotShareable = 2,
}
