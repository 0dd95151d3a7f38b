//! Starting a server: it refuses a log that disagrees with its last checkpoint, and a data
//! directory another server holds.

mod common;

use std::sync::Arc;

use common::*;
use pacta_server::{Config, DataDir, FakeClock, Server, ServerError};

fn config(data: &std::path::Path) -> Config {
    Config {
        data: data.to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    }
}

fn start(data: &std::path::Path) -> Result<Server, ServerError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(Server::start(
        config(data),
        Arc::new(FakeClock::new(at("2026-03-02T12:00:00Z"))),
    ))
}

#[test]
fn a_server_refuses_a_log_that_disagrees_with_its_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let data = create_data(dir.path());
    let bundle = DataDir::at(&data).public_dir().join("tile/entries/000.p/1");
    let mut bytes = std::fs::read(&bundle).unwrap();
    let last = bytes.len() - 2;
    bytes[last] ^= 1;
    std::fs::write(&bundle, bytes).unwrap();
    let error = start(&data)
        .err()
        .expect("the server started on a tampered log");
    assert!(matches!(error, ServerError::DataDir(_)), "{error}");
}

#[test]
fn a_second_server_on_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = create_data(dir.path());
    let _first = TestServer::start(data.clone(), at("2026-03-02T12:00:00Z"));
    let error = start(&data)
        .err()
        .expect("two servers opened one directory");
    assert!(
        error
            .to_string()
            .contains("locked by another running server"),
        "{error}"
    );
}
