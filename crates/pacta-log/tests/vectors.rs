//! The transparency-dev `merkle` test vectors (see `vectors/README.md`) and the standard
//! eight-leaf tree of RFC 6962's reference tests.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use pacta_log::{leaf_hash, verify_consistency, verify_inclusion, Hash, Tree};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionVector {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsistencyVector {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

/// Decodes a hash the way the Go harness does: anything but 32 bytes makes the case fail.
fn hash(text: &str) -> Option<Hash> {
    STANDARD
        .decode(text)
        .ok()
        .and_then(|bytes| Hash::from_slice(&bytes))
}

fn hashes(texts: &Option<Vec<String>>) -> Option<Vec<Hash>> {
    texts.iter().flatten().map(|t| hash(t)).collect()
}

fn vector_files(kind: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(kind);
    let mut files = Vec::new();
    for dir in std::fs::read_dir(&root).expect("vector folder is readable") {
        let dir = dir.expect("vector folder entry").path();
        for file in std::fs::read_dir(&dir).expect("vector subfolder is readable") {
            files.push(file.expect("vector file").path());
        }
    }
    files.sort();
    files
}

fn inclusion_outcome(v: &InclusionVector) -> bool {
    let (Some(root), Some(leaf), Some(proof)) =
        (hash(&v.root), hash(&v.leaf_hash), hashes(&v.proof))
    else {
        return false;
    };
    verify_inclusion(v.leaf_idx, v.tree_size, &leaf, &proof, &root).is_ok()
}

fn consistency_outcome(v: &ConsistencyVector) -> bool {
    let (Some(root1), Some(root2), Some(proof)) =
        (hash(&v.root1), hash(&v.root2), hashes(&v.proof))
    else {
        return false;
    };
    verify_consistency(v.size1, v.size2, &proof, &root1, &root2).is_ok()
}

#[test]
fn every_inclusion_vector_verifies_or_fails_as_the_vector_says() {
    let files = vector_files("inclusion");
    assert!(
        files.len() >= 20,
        "expected the inclusion vectors, found {}",
        files.len()
    );
    for file in files {
        let text = std::fs::read_to_string(&file).expect("vector is readable");
        let vector: InclusionVector = serde_json::from_str(&text).expect("vector parses");
        assert_eq!(
            inclusion_outcome(&vector),
            !vector.want_err,
            "{}: {}",
            file.display(),
            vector.desc
        );
    }
}

#[test]
fn every_consistency_vector_verifies_or_fails_as_the_vector_says() {
    let files = vector_files("consistency");
    assert!(
        files.len() >= 20,
        "expected the consistency vectors, found {}",
        files.len()
    );
    for file in files {
        let text = std::fs::read_to_string(&file).expect("vector is readable");
        let vector: ConsistencyVector = serde_json::from_str(&text).expect("vector parses");
        assert_eq!(
            consistency_outcome(&vector),
            !vector.want_err,
            "{}: {}",
            file.display(),
            vector.desc
        );
    }
}

/// The eight leaves of the RFC 6962 reference tests.
fn standard_leaves() -> Vec<Vec<u8>> {
    vec![
        vec![],
        vec![0x00],
        vec![0x10],
        vec![0x20, 0x21],
        vec![0x30, 0x31],
        vec![0x40, 0x41, 0x42, 0x43],
        (0x50..=0x57).collect(),
        (0x60..=0x6f).collect(),
    ]
}

fn standard_tree() -> Tree {
    let mut tree = Tree::new();
    for leaf in standard_leaves() {
        tree.push_entry(&leaf);
    }
    tree
}

#[test]
fn standard_eight_leaf_tree_has_the_published_root() {
    assert_eq!(
        standard_tree().root().to_hex(),
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    );
}

#[test]
fn generated_inclusion_proofs_match_the_happy_path_vectors() {
    let tree = standard_tree();
    for file in vector_files("inclusion") {
        if !file.ends_with("happy-path.json") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("vector is readable");
        let v: InclusionVector = serde_json::from_str(&text).expect("vector parses");
        let leaf = hash(&v.leaf_hash).expect("happy path has a valid leaf");
        assert_eq!(
            leaf,
            leaf_hash(&standard_leaves()[v.leaf_idx as usize]),
            "{}",
            file.display()
        );
        let proof = tree
            .inclusion_proof(v.leaf_idx, v.tree_size)
            .expect("proof generates");
        assert_eq!(Some(proof), hashes(&v.proof), "{}", file.display());
    }
}

#[test]
fn generated_consistency_proofs_match_the_happy_path_vectors() {
    let tree = standard_tree();
    for file in vector_files("consistency") {
        if !file.ends_with("happy-path.json") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("vector is readable");
        let v: ConsistencyVector = serde_json::from_str(&text).expect("vector parses");
        let proof = tree
            .consistency_proof(v.size1, v.size2)
            .expect("proof generates");
        assert_eq!(Some(proof), hashes(&v.proof), "{}", file.display());
        assert_eq!(Some(tree.root_at(v.size2).expect("root")), hash(&v.root2));
    }
}

#[test]
fn proofs_generated_for_every_pair_of_sizes_up_to_70_verify() {
    let mut tree = Tree::new();
    for i in 0u32..70 {
        tree.push_entry(&i.to_be_bytes());
    }
    for new in 1..=70u64 {
        let new_root = tree.root_at(new).expect("root");
        for old in 0..=new {
            let old_root = tree.root_at(old).expect("root");
            let proof = tree.consistency_proof(old, new).expect("proof");
            verify_consistency(old, new, &proof, &old_root, &new_root)
                .unwrap_or_else(|e| panic!("consistency {old} -> {new}: {e}"));
        }
        for index in 0..new {
            let leaf = tree.level(0)[index as usize];
            let proof = tree.inclusion_proof(index, new).expect("proof");
            verify_inclusion(index, new, &leaf, &proof, &new_root)
                .unwrap_or_else(|e| panic!("inclusion {index} in {new}: {e}"));
        }
    }
}
