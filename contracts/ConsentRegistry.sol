// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {DepartmentAuth, DepartmentSignature} from "./base/DepartmentAuth.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";
import {IResourceCatalog} from "./interfaces/IResourceCatalog.sol";
import {IConsentRegistry} from "./interfaces/IConsentRegistry.sol";

/// @title Consent registry
/// @notice A grant stores one slot (times only) and emits the terms; revocation and checks take the terms
///         again and recompute the id, which keeps a grant cheap and the stored state minimal.
///         The recording department acts by EIP-712 signature, never by `msg.sender`, so that a platform
///         node may relay its grants and revocations; a grant and a revocation each happen once per id,
///         so neither signature can be replayed.
///         Who may record: a department may record a consent in its own favour only over a resource it owns or
///         with the subject's own signature; the resource must be catalogued and the grantee registered. This
///         closes the review's "self-granted consent" (issue 9), where the grantee recorded a consent for itself
///         on another department's personal data and `isValidFor` answered true.
contract ConsentRegistry is IConsentRegistry, DepartmentAuth {
    /// @notice EIP-712 type hash of `ConsentTerms`, signed by the recorder, and by the subject when `subjectSigner` is set.
    bytes32 public constant CONSENT_TYPEHASH =
        keccak256(
            "Consent(bytes32 subject,bytes32 grantee,bytes32 resource,bytes32 purposeHash,uint8 kind,uint64 validUntil,bytes32 evidenceHash,bytes32 recorder,address subjectSigner,uint64 nonce)"
        );
    /// @notice EIP-712 type hash of a revocation of consent `id`, signed by the recorder or the subject.
    bytes32 public constant REVOCATION_TYPEHASH = keccak256("Revocation(bytes32 consentId)");
    /// @notice EIP-712 type hash of a revocation by a key holding the regulator role, with the reason's hash.
    bytes32 public constant REGULATOR_REVOCATION_TYPEHASH =
        keccak256("RegulatorRevocation(bytes32 consentId,bytes32 reasonHash)");
    /// @notice EIP-712 type hash of the cancellation of terms not yet granted, signed by the recorder or the subject.
    bytes32 public constant CONSENT_CANCELLATION_TYPEHASH = keccak256("ConsentCancellation(bytes32 consentId)");

    /// @notice The catalog that says which resources exist and who owns them.
    IResourceCatalog public immutable catalog;

    mapping(bytes32 id => ConsentRecord) private _consents;
    mapping(bytes32 id => uint64 cancelledAt) private _cancelledAt;

    constructor(
        IDepartmentRegistry registry_,
        IResourceCatalog catalog_
    ) DepartmentAuth(registry_, "dcl ConsentRegistry") {
        catalog = catalog_;
    }

    /// @notice Records consent `terms`, signed (EIP-712 `Consent`) by a signer of the recording department,
    ///         with the subject's signature on the same terms when they name a subject key (empty otherwise).
    ///         Any account may submit.
    function grant(
        ConsentTerms calldata terms,
        DepartmentSignature calldata recorderSig,
        bytes calldata subjectSignature
    ) external returns (bytes32 id) {
        if (terms.validUntil <= block.timestamp) revert ConsentsInvalidExpiry(terms.validUntil);
        id = hashTerms(terms);
        _requireNotGrantedOrCancelled(id);
        _requireRecorderMayGrant(terms);
        _requireDepartmentSignature(terms.recorder, id, recorderSig);
        if (terms.subjectSigner == address(0)) {
            if (subjectSignature.length != 0) revert ConsentsInvalidSubjectSignature(address(0));
        } else if (!SignatureChecker.isValidSignatureNow(terms.subjectSigner, _hashTypedDataV4(id), subjectSignature)) {
            revert ConsentsInvalidSubjectSignature(terms.subjectSigner);
        }
        _consents[id] = ConsentRecord(uint64(block.timestamp), terms.validUntil, 0);
        emit ConsentGranted(id, terms.subject, terms, recorderSig.signer);
    }

    /// @notice The recording department withdraws consent `terms` (on the subject's request), by a signer's
    ///         EIP-712 `Revocation` signature; any account may submit.
    function revoke(ConsentTerms calldata terms, DepartmentSignature calldata recorderSig) external {
        bytes32 id = hashTerms(terms);
        _requireDepartmentSignature(terms.recorder, _hashRevocation(id), recorderSig);
        _revoke(id, recorderSig.signer);
    }

    /// @notice Revokes consent `terms` with the subject's own EIP-712 `Revocation` signature; any account may submit.
    function revokeBySubject(ConsentTerms calldata terms, bytes calldata subjectSignature) external {
        bytes32 id = hashTerms(terms);
        bytes32 digest = _hashTypedDataV4(_hashRevocation(id));
        if (
            terms.subjectSigner == address(0) ||
            !SignatureChecker.isValidSignatureNow(terms.subjectSigner, digest, subjectSignature)
        ) revert ConsentsInvalidSubjectSignature(terms.subjectSigner);
        // The subject revoked, whoever relayed the signature.
        _revoke(id, terms.subjectSigner);
    }

    /// @notice A key holding the regulator role revokes consent `terms` for the reason hashed in `reasonHash`, by its
    ///         EIP-712 `RegulatorRevocation` signature; any account may submit. Closes the review's "unrevocable
    ///         consent" (issue 9): without a subject key, a consent whose recorder was deactivated had no one to
    ///         revoke it.
    function revokeByRegulator(
        ConsentTerms calldata terms,
        bytes32 reasonHash,
        address regulator,
        bytes calldata signature
    ) external {
        if (!registry.hasRole(REGULATOR_ROLE, regulator)) revert DclMissingRole(REGULATOR_ROLE, regulator);
        bytes32 id = hashTerms(terms);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(REGULATOR_REVOCATION_TYPEHASH, id, reasonHash)));
        if (!SignatureChecker.isValidSignatureNow(regulator, digest, signature)) {
            revert ConsentsInvalidRegulatorSignature(regulator);
        }
        _revoke(id, regulator);
        emit ConsentRevokedByRegulator(id, reasonHash, regulator);
    }

    /// @notice The recording department cancels consent `terms` before they were granted, by a signer's EIP-712
    ///         `ConsentCancellation` signature; any account may submit. The terms can then never be granted.
    /// @dev With `cancelBySubject`, closes the review's "signed terms without a deadline" (issue 9) for consents:
    ///      terms signed and abandoned could otherwise be granted by whoever held the signatures, at any time.
    function cancel(ConsentTerms calldata terms, DepartmentSignature calldata recorderSig) external {
        bytes32 id = hashTerms(terms);
        _requireDepartmentSignature(terms.recorder, _hashCancellation(id), recorderSig);
        _cancel(id, recorderSig.signer);
    }

    /// @notice The subject cancels consent `terms` before they were granted, by its own key's EIP-712
    ///         `ConsentCancellation` signature; any account may submit.
    function cancelBySubject(ConsentTerms calldata terms, bytes calldata subjectSignature) external {
        bytes32 id = hashTerms(terms);
        bytes32 digest = _hashTypedDataV4(_hashCancellation(id));
        if (
            terms.subjectSigner == address(0) ||
            !SignatureChecker.isValidSignatureNow(terms.subjectSigner, digest, subjectSignature)
        ) revert ConsentsInvalidSubjectSignature(terms.subjectSigner);
        _cancel(id, terms.subjectSigner);
    }

    /// @notice When the terms of consent `id` were cancelled (zero: not cancelled).
    function cancelledAt(bytes32 id) external view returns (uint64) {
        return _cancelledAt[id];
    }

    /// @notice What is stored for consent `id` (all zero when unknown).
    function consent(bytes32 id) external view returns (ConsentRecord memory) {
        return _consents[id];
    }

    /// @notice Was consent `id` valid at time `at`: granted at or before it, not yet expired, not revoked before it?
    /// @dev Answers for any moment in the past, so a regulator can check an access made months ago. Times are
    ///      whole seconds: an access in the second of the revocation's block cannot be ordered against it by
    ///      time, so it counts as before it (the log refuses calls once it knows of the revocation).
    function isValidAt(bytes32 id, uint64 at) public view returns (bool) {
        ConsentRecord memory c = _consents[id];
        return c.grantedAt != 0 && c.grantedAt <= at && at < c.validUntil && (c.revokedAt == 0 || at <= c.revokedAt);
    }

    /// @notice Was a consent with `terms` valid at `at` for this grantee, resource and purpose?
    function isValidFor(
        ConsentTerms calldata terms,
        bytes32 grantee,
        bytes32 resource,
        bytes32 purposeHash,
        uint64 at
    ) external view returns (bool) {
        return
            terms.grantee == grantee &&
            terms.resource == resource &&
            terms.purposeHash == purposeHash &&
            isValidAt(hashTerms(terms), at);
    }

    /// @notice EIP-712 struct hash of `terms`: the consent's id.
    function hashTerms(ConsentTerms calldata terms) public pure returns (bytes32) {
        return keccak256(abi.encode(CONSENT_TYPEHASH, terms));
    }

    function _hashRevocation(bytes32 id) private pure returns (bytes32) {
        return keccak256(abi.encode(REVOCATION_TYPEHASH, id));
    }

    function _hashCancellation(bytes32 id) private pure returns (bytes32) {
        return keccak256(abi.encode(CONSENT_CANCELLATION_TYPEHASH, id));
    }

    /// @dev The resource is catalogued (the catalog reverts otherwise), the grantee is a registered department,
    ///      and a recorder in its own favour owns the resource or brings the subject's signature.
    function _requireRecorderMayGrant(ConsentTerms calldata terms) private view {
        bytes32 owner = catalog.resource(terms.resource).owner;
        if (!registry.exists(terms.grantee)) revert ConsentsUnknownGrantee(terms.grantee);
        if (terms.recorder == terms.grantee && terms.recorder != owner && terms.subjectSigner == address(0)) {
            revert ConsentsRecorderIsGrantee(terms.recorder, terms.resource);
        }
    }

    function _requireNotGrantedOrCancelled(bytes32 id) private view {
        if (_consents[id].grantedAt != 0) revert ConsentsAlreadyGranted(id);
        if (_cancelledAt[id] != 0) revert ConsentsCancelled(id);
    }

    function _cancel(bytes32 id, address by) private {
        _requireNotGrantedOrCancelled(id);
        _cancelledAt[id] = uint64(block.timestamp);
        emit ConsentCancelled(id, by);
    }

    function _revoke(bytes32 id, address by) private {
        ConsentRecord storage c = _consents[id];
        if (c.grantedAt == 0) revert ConsentsUnknown(id);
        if (c.revokedAt != 0) revert ConsentsAlreadyRevoked(id);
        c.revokedAt = uint64(block.timestamp);
        emit ConsentRevoked(id, by);
    }
}
