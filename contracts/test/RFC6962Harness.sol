// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {RFC6962} from "../lib/RFC6962.sol";

/// @notice Test-only wrapper that feeds the shared RFC 6962 vectors (raw byte strings of any length) to the library.
contract RFC6962Harness {
    function verifyInclusion(
        uint256 index,
        uint256 size,
        bytes calldata hash,
        bytes[] calldata proof,
        bytes calldata root
    ) external view returns (bool) {
        if (hash.length != 32 || root.length != 32) return false;
        bytes32[] memory path = new bytes32[](proof.length);
        for (uint256 i = 0; i < proof.length; ++i) {
            if (proof[i].length != 32) return false;
            path[i] = bytes32(proof[i]);
        }
        return RFC6962.verifyInclusion(index, size, bytes32(hash), path, bytes32(root));
    }

    function verifyConsistency(
        uint256 size1,
        uint256 size2,
        bytes calldata root1,
        bytes calldata root2,
        bytes[] calldata proof
    ) external view returns (bool) {
        if (root1.length != 32 || root2.length != 32) return false;
        bytes32[] memory path = new bytes32[](proof.length);
        for (uint256 i = 0; i < proof.length; ++i) {
            if (proof[i].length != 32) return false;
            path[i] = bytes32(proof[i]);
        }
        return RFC6962.verifyConsistency(size1, size2, bytes32(root1), bytes32(root2), path);
    }

    function leafHash(bytes calldata data) external pure returns (bytes32) {
        return RFC6962.leafHash(data);
    }
}
