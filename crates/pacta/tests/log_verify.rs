//! `pacta log verify`: a published log verifies from a directory or over HTTP, and one
//! altered byte in an entry, a tile, the checkpoint or a proof makes it fail, naming what
//! and where.

mod log_common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;

use log_common::{assert_fails_with, flip_byte, initialised_log, pacta, stderr, LogFixture};

const ORIGIN: &str = "log.pacta.example/verify-test";

/// A log of 20 entries `entry 0` .. `entry 19`, checkpointed at 8 and at 20.
fn fixture() -> LogFixture {
    let f = initialised_log(ORIGIN);
    f.append_entries(0..8, &["--checkpoint"]);
    f.append_entries(8..20, &["--checkpoint"]);
    f
}

/// Changes one base64 character of line `line` (zero-based) to another valid one.
fn alter_line(path: &str, line: usize) {
    let text = std::fs::read_to_string(path).expect("read proof");
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let replacement = if lines[line].starts_with('A') {
        "B"
    } else {
        "A"
    };
    lines[line].replace_range(0..1, replacement);
    std::fs::write(path, lines.join("\n")).expect("write proof");
}

#[test]
fn untouched_log_verifies() {
    let f = fixture();
    let output = f.run("verify", &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("size 20"), "{stdout}");
    assert!(stdout.contains("signature verified"), "{stdout}");
}

#[test]
fn one_altered_byte_in_an_entry_names_the_entry_and_its_bundle() {
    let f = fixture();
    // Bundle layout: u16 length then bytes; entry 3 starts after three 9-byte records.
    flip_byte(&f.path("log/public/tile/entries/000.p/20"), 3 * 9 + 2 + 6);
    let output = f.run("verify", &[]);
    assert_fails_with(
        &output,
        1,
        "entry 3 (entry 3 of tile/entries/000.p/20) hashes to",
    );
    assert_fails_with(&output, 1, "the entry was altered");
}

#[test]
fn one_altered_byte_in_a_tile_names_the_tile_and_the_hash() {
    let f = fixture();
    flip_byte(&f.path("log/public/tile/0/000.p/20"), 5 * 32 + 7);
    let output = f.run("verify", &[]);
    assert_fails_with(
        &output,
        1,
        "tile/0/000.p/20: hash 5 (tree level 0, covering entries 5..6)",
    );
}

#[test]
fn one_altered_byte_in_the_checkpoint_fails_its_signature() {
    let f = fixture();
    let checkpoint = f.path("log/public/checkpoint");
    let text = std::fs::read_to_string(&checkpoint).expect("checkpoint");
    let root_line_start = text.find('\n').expect("line 1") + 1 + "20\n".len();
    flip_byte(&checkpoint, root_line_start + 2);
    let output = f.run("verify", &[]);
    assert_fails_with(&output, 1, "checkpoint note: signature by");
    assert_fails_with(&output, 1, "does not verify");
}

#[test]
fn valid_proofs_verify() {
    let f = fixture();
    let inclusion = f.prove(&["--index", "13"], "inclusion.tlog-proof");
    let consistency = f.prove(&["--consistency-from", "8"], "consistency.proof");
    let output = f.run("verify", &["--proof", &inclusion, "--proof", &consistency]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("inclusion of entry 13 verified"),
        "{stdout}"
    );
    assert!(
        stdout.contains("consistency from size 8 verified"),
        "{stdout}"
    );
}

#[test]
fn one_altered_byte_in_an_inclusion_proof_names_the_proof_file() {
    let f = fixture();
    let inclusion = f.prove(&["--index", "13"], "inclusion.tlog-proof");
    alter_line(&inclusion, 3);
    let output = f.run("verify", &["--proof", &inclusion]);
    assert_fails_with(&output, 1, &format!("{inclusion}: proof does not verify"));
}

#[test]
fn one_altered_byte_in_a_consistency_proof_names_the_proof_file() {
    let f = fixture();
    let consistency = f.prove(&["--consistency-from", "8"], "consistency.proof");
    alter_line(&consistency, 2);
    let output = f.run("verify", &["--proof", &consistency]);
    assert_fails_with(&output, 1, &format!("{consistency}: proof does not verify"));
}

#[test]
fn proof_line_that_is_not_a_hash_is_named_by_line_number() {
    let f = fixture();
    let inclusion = f.prove(&["--index", "2"], "inclusion.tlog-proof");
    let text = std::fs::read_to_string(&inclusion).expect("proof");
    std::fs::write(
        &inclusion,
        text.replacen("\n", "\n!", 2).replacen("\n!", "\n", 1),
    )
    .expect("write");
    let output = f.run("verify", &["--proof", &inclusion]);
    assert_fails_with(&output, 1, "proof line 3: not base64 of a 32-byte hash");
}

/// Serves the files under `root` over HTTP/1.1 on 127.0.0.1 for `requests` requests.
fn serve(root: PathBuf, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut stream) = stream else { continue };
            let mut request_line = String::new();
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok() && header != "\r\n" && !header.is_empty() {
                header.clear();
            }
            let path = request_line
                .split(' ')
                .nth(1)
                .unwrap_or("/")
                .trim_start_matches('/');
            let response = match std::fs::read(root.join(path)) {
                Ok(body) => {
                    let mut out = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    out.extend(body);
                    out
                }
                Err(_) => {
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_vec()
                }
            };
            let _ = stream.write_all(&response);
        }
    });
    format!("http://{address}")
}

#[test]
fn log_served_over_http_verifies() {
    let f = fixture();
    let url = serve(f.path("log/public"), 16);
    let output = pacta(&["log", "verify", &url, "--key", &f.key]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("size 20"));
}

#[test]
fn tampered_tile_served_over_http_fails_naming_the_tile() {
    let f = fixture();
    flip_byte(&f.path("log/public/tile/0/000.p/20"), 0);
    let url = serve(f.path("log/public"), 16);
    let output = pacta(&["log", "verify", &url, "--key", &f.key]);
    assert_fails_with(&output, 1, "tile/0/000.p/20: hash 0");
}
