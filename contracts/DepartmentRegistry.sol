// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";

/// @title Department registry
/// @notice The one place every other dcl contract asks "is this address a current signer of department X?".
///         A department's keys are its own: adding or removing a key or changing its threshold needs k of its
///         n current signers (EIP-712 `SignerChange`, relayed by anyone; k is 1 by default, when a signer may
///         also act by transaction). The governor cannot act as a department (closes the review's "the governor
///         signs as any department"): it registers departments and, when a department has lost its keys, may
///         only propose a recovery that waits RECOVERY_DELAY in public and that any one of the department's
///         current keys can veto. Borrowed from OpenZeppelin: EIP712 (domain and typed-data hashing) and
///         SignatureChecker (EOA and EIP-1271 signers); the delay-with-veto is the idea of AccessManager's
///         scheduled operations, kept to the one operation that needs it.
contract DepartmentRegistry is IDepartmentRegistry, AccessControl, EIP712 {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice Registers departments, their keys and the catalog; administers the other roles.
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR");
    /// @notice Reads every trail, suspends and resumes agreements.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR");
    /// @notice Checks the provenance of data products.
    bytes32 public constant EXCHANGE_ROLE = keccak256("EXCHANGE");
    /// @notice A department holds at most this many signer keys, so no loop over them is unbounded.
    uint256 public constant MAX_SIGNERS = 16;
    /// @notice How long a governor's recovery of a department waits, in public, for a veto by the department's keys.
    uint64 public constant RECOVERY_DELAY = 3 days;
    /// @notice EIP-712 type hash of a change of a department's keys, signed by k of its current signers.
    bytes32 public constant SIGNER_CHANGE_TYPEHASH =
        keccak256("SignerChange(bytes32 department,uint8 action,address signer,uint8 threshold,uint32 nonce)");
    /// @notice EIP-712 type hash of a veto of a pending recovery, signed by any one current signer of the department.
    bytes32 public constant RECOVERY_VETO_TYPEHASH = keccak256("RecoveryVeto(bytes32 department,bytes32 recoveryHash)");

    /// @notice The account that deployed this registry: the only one that may record the deployment.
    address public immutable deployer;
    /// @notice The block this registry was deployed in: where a verifier starts replaying its events.
    uint256 public immutable deployedAtBlock;

    Deployment private _deployment;
    mapping(bytes32 id => Department) private _departments;
    mapping(bytes32 id => EnumerableSet.AddressSet) private _signers;
    mapping(bytes32 id => Recovery) private _recoveries;

    /// @param governor the big-data bureau's account: admin of every role and first governor.
    constructor(address governor) EIP712("dcl DepartmentRegistry", "1") {
        deployer = msg.sender;
        deployedAtBlock = block.number;
        _grantRole(DEFAULT_ADMIN_ROLE, governor);
        _grantRole(GOVERNOR_ROLE, governor);
    }

    /// @notice Records the deployment's other contracts, once, by the registry's deployer. Each must be a
    ///         contract whose `registry()` is this registry, so a foreign contract cannot be passed off
    ///         as part of the deployment.
    function recordDeployment(Deployment calldata d) external {
        if (msg.sender != deployer || _deployment.catalog != address(0)) revert RegistryDeploymentLocked(msg.sender);
        address[5] memory parts = [d.catalog, d.anchors, d.agreements, d.consents, d.transfers];
        for (uint256 i = 0; i < parts.length; ++i) {
            if (!_namesThisRegistry(parts[i])) revert RegistryDeploymentInvalid(parts[i]);
        }
        _deployment = d;
        emit DeploymentRecorded(d);
    }

    /// @notice The deployment's other contracts (all zero until recorded).
    function deployment() external view returns (Deployment memory) {
        return _deployment;
    }

    /// @notice Registers department `id` at `level` under `parent` (zero for none) with its first signers
    ///         and a threshold of 1.
    function registerDepartment(
        bytes32 id,
        Level level,
        bytes32 parent,
        address[] calldata signers
    ) external onlyRole(GOVERNOR_ROLE) {
        _register(id, level, parent, signers, 1);
    }

    /// @notice Registers department `id` with its first signers, `threshold` of which must sign any change of its keys.
    function registerDepartmentWithThreshold(
        bytes32 id,
        Level level,
        bytes32 parent,
        address[] calldata signers,
        uint8 threshold
    ) external onlyRole(GOVERNOR_ROLE) {
        _register(id, level, parent, signers, threshold);
    }

    /// @notice Activates or deactivates department `id`; an inactive department's signers cannot act.
    function setDepartmentActive(bytes32 id, bool active) external onlyRole(GOVERNOR_ROLE) {
        _requireExists(id);
        _departments[id].active = active;
        emit DepartmentActiveSet(id, active);
    }

    /// @notice Adds `signer` to department `id`, by a transaction of one of its current signers; only for a
    ///         department whose threshold is 1 (otherwise: `changeSigners` with k signatures). Not the governor.
    function addSigner(bytes32 id, address signer) external {
        _requireSoleSigner(id);
        _add(id, signer);
    }

    /// @notice Removes `signer` from department `id`, by a transaction of one of its current signers; only for a
    ///         department whose threshold is 1 (otherwise: `changeSigners`). Not the governor.
    function removeSigner(bytes32 id, address signer) external {
        _requireSoleSigner(id);
        _remove(id, signer);
    }

    /// @notice Applies `change` to department `change.department` on the EIP-712 signatures of at least its
    ///         threshold of distinct current signers, given in ascending order of signer address; anyone may submit.
    function changeSigners(SignerChange calldata change, KeySignature[] calldata signatures) external {
        bytes32 id = change.department;
        _requireExists(id);
        Department storage d = _departments[id];
        if (change.nonce != d.changeNonce) revert RegistryStaleChange(id, d.changeNonce);
        bytes32 digest = _hashTypedDataV4(hashSignerChange(change));
        uint256 valid = _countSignatures(id, digest, signatures);
        if (valid < d.threshold) revert RegistryThresholdNotMet(id, valid, d.threshold);
        d.changeNonce += 1;
        if (change.action == SignerAction.Add) _add(id, change.signer);
        else if (change.action == SignerAction.Remove) _remove(id, change.signer);
        else _setThreshold(id, change.threshold);
    }

    /// @notice The governor proposes to recover department `id` (its keys lost or stolen): after RECOVERY_DELAY,
    ///         unless one of its current keys vetoes, remove `remove`, add `add` and set `threshold`. A new proposal
    ///         replaces a pending one (and restarts the delay).
    function proposeRecovery(
        bytes32 id,
        address[] calldata add,
        address[] calldata remove,
        uint8 threshold
    ) external onlyRole(GOVERNOR_ROLE) {
        _requireExists(id);
        uint64 executableAt = uint64(block.timestamp) + RECOVERY_DELAY;
        _recoveries[id] = Recovery({hash: keccak256(abi.encode(add, remove, threshold)), executableAt: executableAt});
        emit RecoveryProposed(id, add, remove, threshold, executableAt, msg.sender);
    }

    /// @notice Any one current signer of `id` vetoes its pending recovery, by an EIP-712 `RecoveryVeto`
    ///         signature; anyone may submit.
    function vetoRecovery(bytes32 id, KeySignature calldata sig) external {
        Recovery memory r = _recoveries[id];
        if (r.executableAt == 0) revert RegistryNoRecovery(id);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(RECOVERY_VETO_TYPEHASH, id, r.hash)));
        if (!_signers[id].contains(sig.signer) || !SignatureChecker.isValidSignatureNow(sig.signer, digest, sig.signature)) {
            revert RegistryInvalidSignature(id, sig.signer);
        }
        delete _recoveries[id];
        emit RecoveryVetoed(id, sig.signer);
    }

    /// @notice The governor runs the pending recovery of `id` once its delay has passed without a veto.
    function executeRecovery(
        bytes32 id,
        address[] calldata add,
        address[] calldata remove,
        uint8 threshold
    ) external onlyRole(GOVERNOR_ROLE) {
        Recovery memory r = _recoveries[id];
        if (r.executableAt == 0 || r.hash != keccak256(abi.encode(add, remove, threshold))) revert RegistryNoRecovery(id);
        if (block.timestamp < r.executableAt) revert RegistryRecoveryNotReady(id, r.executableAt);
        delete _recoveries[id];
        for (uint256 i = 0; i < add.length; ++i) _add(id, add[i]);
        for (uint256 i = 0; i < remove.length; ++i) _remove(id, remove[i]);
        _setThreshold(id, threshold);
        _departments[id].changeNonce += 1; // signatures gathered for the old keys are void
        emit RecoveryExecuted(id, msg.sender);
    }

    /// @notice The pending recovery of `id` (zero when none).
    function recoveryOf(bytes32 id) external view returns (Recovery memory) {
        return _recoveries[id];
    }

    /// @notice EIP-712 struct hash of `change`.
    function hashSignerChange(SignerChange calldata change) public pure returns (bytes32) {
        return keccak256(abi.encode(SIGNER_CHANGE_TYPEHASH, change.department, change.action, change.signer, change.threshold, change.nonce));
    }

    /// @notice The EIP-712 domain separator of this contract.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IDepartmentRegistry
    function isSigner(bytes32 id, address account) external view returns (bool) {
        return _departments[id].active && _signers[id].contains(account);
    }

    /// @inheritdoc IDepartmentRegistry
    function exists(bytes32 id) public view returns (bool) {
        return _departments[id].signerCount != 0;
    }

    /// @notice The department `id` (reverts if unknown).
    function department(bytes32 id) external view returns (Department memory) {
        _requireExists(id);
        return _departments[id];
    }

    /// @notice The current signer keys of department `id` (at most MAX_SIGNERS).
    function signersOf(bytes32 id) external view returns (address[] memory) {
        return _signers[id].values();
    }

    /// @inheritdoc IDepartmentRegistry
    function hasRole(
        bytes32 role,
        address account
    ) public view override(AccessControl, IDepartmentRegistry) returns (bool) {
        return super.hasRole(role, account);
    }

    function _register(bytes32 id, Level level, bytes32 parent, address[] calldata signers, uint8 threshold) private {
        if (id == bytes32(0) || exists(id)) revert RegistryInvalidDepartmentId(id);
        if (parent != bytes32(0) && !exists(parent)) revert RegistryUnknownDepartment(parent);
        if (signers.length == 0) revert RegistryInvalidSigner(id, address(0));
        if (signers.length > MAX_SIGNERS) revert RegistryTooManySigners(id, MAX_SIGNERS);
        _departments[id] = Department({level: level, active: true, signerCount: 0, threshold: 1, changeNonce: 0, parent: parent});
        emit DepartmentRegistered(id, level, parent, signers);
        for (uint256 i = 0; i < signers.length; ++i) {
            _addSigner(id, signers[i]);
        }
        if (threshold != 1) _setThreshold(id, threshold);
    }

    function _add(bytes32 id, address signer) private {
        if (_departments[id].signerCount >= MAX_SIGNERS) revert RegistryTooManySigners(id, MAX_SIGNERS);
        _addSigner(id, signer);
    }

    function _remove(bytes32 id, address signer) private {
        Department storage d = _departments[id];
        if (!_signers[id].remove(signer)) revert RegistryInvalidSigner(id, signer);
        if (d.signerCount == 1) revert RegistryLastSigner(id, signer);
        d.signerCount -= 1;
        if (d.threshold > d.signerCount) revert RegistryInvalidThreshold(id, d.threshold, d.signerCount);
        emit SignerRemoved(id, signer, msg.sender);
    }

    function _setThreshold(bytes32 id, uint8 threshold) private {
        Department storage d = _departments[id];
        if (threshold == 0 || threshold > d.signerCount) revert RegistryInvalidThreshold(id, threshold, d.signerCount);
        d.threshold = threshold;
        emit ThresholdSet(id, threshold);
    }

    /// @dev Valid signatures of distinct current signers of `id` over `digest`, signers strictly ascending.
    function _countSignatures(bytes32 id, bytes32 digest, KeySignature[] calldata signatures) private view returns (uint256) {
        address last;
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = signatures[i].signer;
            if (
                signer <= last ||
                !_signers[id].contains(signer) ||
                !SignatureChecker.isValidSignatureNow(signer, digest, signatures[i].signature)
            ) revert RegistryInvalidSignature(id, signer);
            last = signer;
        }
        return signatures.length;
    }

    function _addSigner(bytes32 id, address signer) private {
        if (signer == address(0) || !_signers[id].add(signer)) revert RegistryInvalidSigner(id, signer);
        _departments[id].signerCount += 1;
        emit SignerAdded(id, signer, msg.sender);
    }

    function _namesThisRegistry(address part) private view returns (bool) {
        if (part.code.length == 0) return false;
        (bool ok, bytes memory ret) = part.staticcall(abi.encodeWithSignature("registry()"));
        return ok && ret.length == 32 && abi.decode(ret, (address)) == address(this);
    }

    function _requireExists(bytes32 id) private view {
        if (!exists(id)) revert RegistryUnknownDepartment(id);
    }

    /// @dev msg.sender is a current signer of the active department `id`, whose threshold is 1.
    function _requireSoleSigner(bytes32 id) private view {
        _requireExists(id);
        Department storage d = _departments[id];
        if (!d.active || !_signers[id].contains(msg.sender)) revert RegistryUnauthorized(id, msg.sender);
        if (d.threshold != 1) revert RegistryThresholdNotMet(id, 1, d.threshold);
    }
}
