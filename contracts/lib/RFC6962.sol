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
    /// @dev Calls the SHA-256 precompile on 65 bytes written past the free memory pointer, without
    ///      allocating: proofs hash up to 2·log2(n) nodes, and `abi.encodePacked` would grow memory
    ///      by each of them.
    function nodeHash(bytes32 left, bytes32 right) internal view returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0x01)
            mstore(add(p, 1), left)
            mstore(add(p, 33), right)
            if iszero(staticcall(gas(), 0x02, p, 65, 0x00, 0x20)) {
                revert(0, 0)
            }
            h := mload(0x00)
        }
    }

    /// @notice True when `proof` shows the leaf `hash` at `index` in the tree of `size` leaves with `root`.
    function verifyInclusion(
        uint256 index,
        uint256 size,
        bytes32 hash,
        bytes32[] memory proof,
        bytes32 root
    ) internal view returns (bool) {
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

    /// @notice True when `proof` shows that the tree of `size1` leaves with `root1` is a prefix of the
    ///         tree of `size2` leaves with `root2` (RFC 9162 §2.1.4.2). Sizes must satisfy
    ///         0 < size1 <= size2; equal sizes need an empty proof and equal roots.
    function verifyConsistency(
        uint256 size1,
        uint256 size2,
        bytes32 root1,
        bytes32 root2,
        bytes32[] memory proof
    ) internal view returns (bool) {
        if (size1 == 0 || size1 > size2) return false;
        if (size1 == size2) return proof.length == 0 && root1 == root2;
        if (proof.length == 0) return false;
        uint256 fn = size1 - 1;
        uint256 sn = size2 - 1;
        // Where size1 is a power of two, its root is the proof's implied first node (step 2).
        bool implied = size1 & fn == 0;
        while (fn & 1 == 1) {
            fn >>= 1;
            sn >>= 1;
        }
        bytes32 fr = implied ? root1 : proof[0];
        bytes32 sr = fr;
        for (uint256 i = implied ? 0 : 1; i < proof.length; ++i) {
            if (sn == 0) return false; // proof longer than the path
            bytes32 c = proof[i];
            if (fn & 1 == 1 || fn == sn) {
                fr = nodeHash(c, fr);
                sr = nodeHash(c, sr);
                while (fn & 1 == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                sr = nodeHash(sr, c);
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && fr == root1 && sr == root2;
    }
}
