// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Errors shared by every dcl contract that acts on behalf of departments
interface IDclErrors {
    /// @dev `account` is not a current signer of the active department `department`.
    error DclNotDepartmentSigner(bytes32 department, address account);
    /// @dev `account` lacks `role` in the department registry.
    error DclMissingRole(bytes32 role, address account);
    /// @dev `signature` is not a valid EIP-712 signature by `signer`, a current signer of `department`.
    error DclInvalidSignature(bytes32 department, address signer);
}
