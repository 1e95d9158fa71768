// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IResourceCatalog} from "./interfaces/IResourceCatalog.sol";
import {IDepartmentRegistry} from "./interfaces/IDepartmentRegistry.sol";

/// @title Resource catalog
/// @notice Changed only by the owner department's signers or the governor.
contract ResourceCatalog is IResourceCatalog {
    bytes32 private constant GOVERNOR_ROLE = keccak256("GOVERNOR");

    /// @notice The department registry that says who may change a resource.
    IDepartmentRegistry public immutable registry;

    mapping(bytes32 id => Resource) private _resources;

    constructor(IDepartmentRegistry registry_) {
        registry = registry_;
    }

    /// @notice Catalogues resource `id`, owned by department `owner`.
    function registerResource(
        bytes32 id,
        bytes32 owner,
        bytes32 schemaHash,
        SharingCondition condition,
        bool personal
    ) external {
        if (id == bytes32(0) || _resources[id].version != 0) revert CatalogInvalidResourceId(id);
        if (!registry.exists(owner)) revert CatalogUnknownOwner(owner);
        _requireOwnerOrGovernor(owner);
        _resources[id] = Resource(owner, schemaHash, condition, personal, 1);
        emit ResourceRegistered(id, owner, schemaHash, condition, personal);
    }

    /// @notice Publishes a new version of resource `id`.
    function updateResource(bytes32 id, bytes32 schemaHash, SharingCondition condition, bool personal) external {
        Resource storage r = _resources[id];
        if (r.version == 0) revert CatalogUnknownResource(id);
        _requireOwnerOrGovernor(r.owner);
        r.schemaHash = schemaHash;
        r.condition = condition;
        r.personal = personal;
        r.version += 1;
        emit ResourceUpdated(id, schemaHash, condition, personal, r.version);
    }

    /// @inheritdoc IResourceCatalog
    function resource(bytes32 id) external view returns (Resource memory) {
        Resource memory r = _resources[id];
        if (r.version == 0) revert CatalogUnknownResource(id);
        return r;
    }

    function _requireOwnerOrGovernor(bytes32 owner) private view {
        if (!registry.isSigner(owner, msg.sender) && !registry.hasRole(GOVERNOR_ROLE, msg.sender)) {
            revert CatalogUnauthorized(owner, msg.sender);
        }
    }
}
