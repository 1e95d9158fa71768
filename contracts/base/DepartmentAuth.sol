// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IDepartmentRegistry} from "../interfaces/IDepartmentRegistry.sol";
import {IDclErrors} from "../interfaces/IDclErrors.sol";

/// @notice A department's signature on EIP-712 typed data: the key that signed, and its signature.
/// @dev The signer is named (not recovered) so that a department may use a contract wallet (EIP-1271).
struct DepartmentSignature {
    address signer; // a current signer of the department, per the registry
    bytes signature; // 65-byte ECDSA signature, or an EIP-1271 signature for a contract wallet
}

/// @title The one place that checks who may act for a department, by transaction or by signature
/// @dev Every co-signature in dcl goes through `_requireDepartmentSignature`; the EIP-712 domain binds
///      each signature to the chain id and this contract's address, and each signed struct carries a
///      nonce or is consumed once, so a signature cannot be replayed.
abstract contract DepartmentAuth is EIP712, IDclErrors {
    bytes32 internal constant GOVERNOR_ROLE = keccak256("GOVERNOR");
    bytes32 internal constant REGULATOR_ROLE = keccak256("REGULATOR");

    /// @notice The department registry every authorisation is checked against.
    IDepartmentRegistry public immutable registry;

    constructor(IDepartmentRegistry registry_, string memory name) EIP712(name, "1") {
        registry = registry_;
    }

    /// @notice The EIP-712 domain separator of this contract (chain id and address bound).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _requireSigner(bytes32 department) internal view {
        if (!registry.isSigner(department, msg.sender)) revert DclNotDepartmentSigner(department, msg.sender);
    }

    function _requireRole(bytes32 role) internal view {
        if (!registry.hasRole(role, msg.sender)) revert DclMissingRole(role, msg.sender);
    }

    function _requireDepartmentSignature(
        bytes32 department,
        bytes32 structHash,
        DepartmentSignature calldata sig
    ) internal view {
        bytes32 digest = _hashTypedDataV4(structHash);
        if (
            !registry.isSigner(department, sig.signer) ||
            !SignatureChecker.isValidSignatureNow(sig.signer, digest, sig.signature)
        ) revert DclInvalidSignature(department, sig.signer);
    }
}
