// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title RFC 6962 / RFC 9162 Merkle tree hashing and inclusion verification
/// @notice One hashing scheme for every tree in dcl (the access log, transfer record batches):
///         SHA-256 with a 0x00 prefix for leaves and 0x01 for interior nodes.
/// @dev Written by hand because OpenZeppelin's MerkleProof uses sorted-pair keccak trees, which are
///      not RFC 6962 trees; the algorithm is RFC 9162 §2.1.3.2, as in transparency-dev/merkle.
library RFC6962 {
    /// @notice SHA-256(0x00 ‖ data): the hash of a leaf.
    function leafHash(bytes memory data) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x00), data));
    }

    /// @notice SHA-256(0x01 ‖ left ‖ right): the hash of an interior node.
    function nodeHash(bytes32 left, bytes32 right) internal pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), left, right));
    }

    /// @notice True when `proof` shows the leaf `hash` at `index` in the tree of `size` leaves with `root`.
    function verifyInclusion(
        uint256 index,
        uint256 size,
        bytes32 hash,
        bytes32[] memory proof,
        bytes32 root
    ) internal pure returns (bool) {
        if (index >= size) return false;
        uint256 fn = index;
        uint256 sn = size - 1;
        bytes32 r = hash;
        for (uint256 i = 0; i < proof.length; ++i) {
            if (sn == 0) return false; // proof longer than the path
            if (fn & 1 == 1 || fn == sn) {
                r = nodeHash(proof[i], r);
                // On the right border: skip the levels where this node has no right sibling.
                while (fn & 1 == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                r = nodeHash(r, proof[i]);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r == root;
    }
}
