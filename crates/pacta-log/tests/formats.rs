//! C2SP tlog-tiles paths and bundles, tlog-checkpoint bodies and tlog-proof files.

use pacta_log::checkpoint::CheckpointError;
use pacta_log::proof::InclusionProof;
use pacta_log::tiles::{decode_bundle, encode_bundle, tile_path, BundleError, TileKind};
use pacta_log::{Checkpoint, Hash, EMPTY_ROOT};

#[test]
fn tile_index_is_written_in_x_prefixed_groups_of_three_digits() {
    assert_eq!(
        tile_path(TileKind::Hashes(0), 1_234_067, 256),
        "tile/0/x001/x234/067"
    );
    assert_eq!(tile_path(TileKind::Hashes(2), 5, 256), "tile/2/005");
    assert_eq!(
        tile_path(TileKind::Hashes(1), 1_000, 256),
        "tile/1/x001/000"
    );
}

#[test]
fn partial_tiles_and_bundles_carry_their_width() {
    assert_eq!(tile_path(TileKind::Hashes(0), 3, 17), "tile/0/003.p/17");
    assert_eq!(
        tile_path(TileKind::Entries, 1_234_067, 255),
        "tile/entries/x001/x234/067.p/255"
    );
}

#[test]
fn bundle_round_trips_entries_with_big_endian_u16_lengths() {
    let entries: Vec<Vec<u8>> = vec![b"a".to_vec(), vec![], vec![7; 300]];
    let bundle = encode_bundle(&entries).expect("encodes");
    assert_eq!(&bundle[..3], &[0x00, 0x01, b'a']);
    assert_eq!(&bundle[3..5], &[0x00, 0x00]);
    assert_eq!(&bundle[5..7], &[0x01, 0x2c]);
    let decoded: Vec<Vec<u8>> = decode_bundle(&bundle)
        .expect("decodes")
        .iter()
        .map(|e| e.to_vec())
        .collect();
    assert_eq!(decoded, entries);
}

#[test]
fn truncated_bundle_names_the_entry_and_offset() {
    let error = decode_bundle(&[0x00, 0x01, b'a', 0x00, 0x05, b'x']).expect_err("truncated");
    assert_eq!(
        error,
        BundleError::Truncated {
            entry: 1,
            offset: 3
        }
    );
}

#[test]
fn checkpoint_body_round_trips_with_extension_lines() {
    let checkpoint = Checkpoint {
        origin: "example.com/log".to_owned(),
        size: 20_852_163,
        root: Hash::from_base64("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=").expect("hash"),
        extensions: vec!["Timestamp: 1689748607742585419".to_owned()],
    };
    let text = checkpoint.to_text();
    assert_eq!(
        text,
        "example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nTimestamp: 1689748607742585419\n"
    );
    assert_eq!(Checkpoint::parse(&text).expect("parses"), checkpoint);
}

#[test]
fn checkpoint_size_with_a_leading_zero_is_refused_on_line_2() {
    let text = format!("example.com/log\n012\n{}\n", EMPTY_ROOT.to_base64());
    let error = Checkpoint::parse(&text).expect_err("refused");
    assert!(
        matches!(error, CheckpointError::Line { line: 2, .. }),
        "{error}"
    );
}

#[test]
fn checkpoint_root_that_is_not_32_bytes_is_refused_on_line_3() {
    let error = Checkpoint::parse("example.com/log\n1\nV3JvbmdSb290\n").expect_err("refused");
    assert!(
        matches!(error, CheckpointError::Line { line: 3, .. }),
        "{error}"
    );
}

#[test]
fn tlog_proof_with_extra_data_round_trips() {
    let proof = InclusionProof {
        extra: Some(b"age-v1.2.1-darwin-arm64.tar.gz".to_vec()),
        index: 73_894,
        hashes: vec![EMPTY_ROOT, Hash([1; 32])],
        checkpoint: "example.com/log\n1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n\n\u{2014} example.com/log AAAAAA==\n".to_owned(),
    };
    let text = proof.to_text();
    assert!(text.starts_with(
        "c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6\nindex 73894\n"
    ));
    assert_eq!(InclusionProof::parse(&text).expect("parses"), proof);
}

#[test]
fn a_proof_file_with_more_hashes_than_any_tree_needs_is_refused_at_the_first_extra_line() {
    let hash_line = format!("{}\n", EMPTY_ROOT.to_base64());
    let text = format!(
        "c2sp.org/tlog-proof@v1\nindex 0\n{}\ncheckpoint\n",
        hash_line.repeat(pacta_log::proof::MAX_PROOF_HASHES + 1)
    );
    let error = InclusionProof::parse(&text).expect_err("too many hashes");
    assert!(
        error
            .to_string()
            .starts_with("proof line 68: more than 65 hashes"),
        "{error}"
    );
}
