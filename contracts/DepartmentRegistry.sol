// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";

/// @title Department registry
/// @notice The one place every other dcl contract asks "is this address a current signer of department X?".
contract DepartmentRegistry is IDepartmentRegistry, AccessControl {
    using EnumerableSet for EnumerableSet.AddressSet;

    /// @notice Registers departments, their keys and the catalog; administers the other roles.
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR");
    /// @notice Reads every trail, suspends and resumes agreements.
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR");
    /// @notice Checks the provenance of data products.
    bytes32 public constant EXCHANGE_ROLE = keccak256("EXCHANGE");
    /// @notice A department holds at most this many signer keys, so no loop over them is unbounded.
    uint256 public constant MAX_SIGNERS = 16;

    /// @notice The account that deployed this registry: the only one that may record the deployment.
    address public immutable deployer;
    /// @notice The block this registry was deployed in: where a verifier starts replaying its events.
    uint256 public immutable deployedAtBlock;

    Deployment private _deployment;
    mapping(bytes32 id => Department) private _departments;
    mapping(bytes32 id => EnumerableSet.AddressSet) private _signers;

    /// @param governor the big-data bureau's account: admin of every role and first governor.
    constructor(address governor) {
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

    /// @notice Registers department `id` at `level` under `parent` (zero for none) with its first signers.
    function registerDepartment(
        bytes32 id,
        Level level,
        bytes32 parent,
        address[] calldata signers
    ) external onlyRole(GOVERNOR_ROLE) {
        if (id == bytes32(0) || exists(id)) revert RegistryInvalidDepartmentId(id);
        if (parent != bytes32(0) && !exists(parent)) revert RegistryUnknownDepartment(parent);
        if (signers.length == 0) revert RegistryInvalidSigner(id, address(0));
        if (signers.length > MAX_SIGNERS) revert RegistryTooManySigners(id, MAX_SIGNERS);
        _departments[id] = Department({level: level, active: true, signerCount: 0, parent: parent});
        emit DepartmentRegistered(id, level, parent, signers);
        for (uint256 i = 0; i < signers.length; ++i) {
            _addSigner(id, signers[i]);
        }
    }

    /// @notice Activates or deactivates department `id`; an inactive department's signers cannot act.
    function setDepartmentActive(bytes32 id, bool active) external onlyRole(GOVERNOR_ROLE) {
        _requireExists(id);
        _departments[id].active = active;
        emit DepartmentActiveSet(id, active);
    }

    /// @notice Adds `signer` to department `id`; by the governor or a current signer of `id` (key rotation).
    function addSigner(bytes32 id, address signer) external {
        _requireGovernorOrSigner(id);
        if (_departments[id].signerCount >= MAX_SIGNERS) revert RegistryTooManySigners(id, MAX_SIGNERS);
        _addSigner(id, signer);
    }

    /// @notice Removes `signer` from department `id`; from then on it cannot act for `id`.
    function removeSigner(bytes32 id, address signer) external {
        _requireGovernorOrSigner(id);
        if (!_signers[id].remove(signer)) revert RegistryInvalidSigner(id, signer);
        if (_departments[id].signerCount == 1) revert RegistryLastSigner(id, signer);
        _departments[id].signerCount -= 1;
        emit SignerRemoved(id, signer, msg.sender);
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

    function _requireGovernorOrSigner(bytes32 id) private view {
        _requireExists(id);
        bool signer = _departments[id].active && _signers[id].contains(msg.sender);
        if (!signer && !hasRole(GOVERNOR_ROLE, msg.sender)) revert RegistryUnauthorized(id, msg.sender);
    }
}
