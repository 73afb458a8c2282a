//! A property over the real binary: whatever garbage frames, broken bodies, lone surrogates and `$/` requests a
//! client interleaves with valid requests, in whatever chunks, the daemon does not fall over, answers every valid
//! request exactly once with its result, answers each bad request with an id at most once, still serves a final
//! `listRuns`, and `shutdown` then `exit` end it with code 0.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Value};

use crate::support::{Daemon, REPLY};

/// Daemons started per run of the property; each case spawns one, so this bounds the test's time (about 5 s).
const CASES: u32 = 64;
/// Ids of valid requests start here, clear of the harness's own counter.
const FIRST_ID: i64 = 100_000;

fn request(id: &Value, method: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {}}).to_string()
}

fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Input that is no valid request; ids it carries are strings starting `g-`.
fn garbage() -> impl Strategy<Value = Vec<u8>> {
    let id = "[a-z]{1,8}".prop_map(|s| json!(format!("g-{s}")));
    prop_oneof![
        Just(b"Content-Length: abc\r\n\r\n{}".to_vec()),
        id.clone()
            .prop_map(|id| format!("Content-Type: x\r\n\r\n{}", request(&id, "listRuns")).into_bytes()),
        id.clone().prop_map(|id| request(&id, "listRuns").into_bytes()),
        id.clone().prop_map(|id| {
            let body = request(&id, "listRuns");
            format!("Content-Length: {}\n\n{body}", body.len()).into_bytes()
        }),
        (id.clone(), 1usize..30)
            .prop_map(|(id, n)| { format!("Content-Length: {n}\r\n\r\n{}", request(&id, "listRuns")).into_bytes() }),
        (id.clone(), 1usize..300).prop_map(|(id, extra)| {
            let body = request(&id, "listRuns");
            format!("Content-Length: {}\r\n\r\n{body}", body.len() + extra).into_bytes()
        }),
        Just(b"Content-Length: 1000000000000\r\n\r\n{\"jsonrpc\":".to_vec()),
        id.clone().prop_map(|id| {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"runTests","params":{{"cwd":"\ud800"}}}}"#);
            framed(body.as_bytes())
        }),
        id.clone()
            .prop_map(|id| framed(request(&id, "$/noSuchRequest").as_bytes())),
        id.prop_map(|id| framed(json!({"id": id, "not": "json-rpc"}).to_string().as_bytes())),
        Just(framed(
            br#"{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":424242}}"#
        )),
        proptest::collection::vec(any::<u8>(), 1..48),
    ]
}

/// Bytes of valid requests (ids from FIRST_ID) with garbage between them, and how many valid ones there are.
fn session() -> impl Strategy<Value = (Vec<u8>, i64)> {
    proptest::collection::vec(proptest::option::of(garbage()), 1..10).prop_map(|slots| {
        let mut bytes = Vec::new();
        for (i, garbage) in (0_i64..).zip(&slots) {
            bytes.extend(garbage.iter().flatten());
            bytes.extend(framed(request(&json!(FIRST_ID + i), "listRuns").as_bytes()));
        }
        (bytes, i64::try_from(slots.len()).unwrap())
    })
}

/// How many times `needle` occurs in `haystack`.
fn count(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).filter(|w| *w == needle).count()
}

fn check(bytes: &[u8], valid: i64, chunk: usize) -> Result<(), TestCaseError> {
    let mut daemon = Daemon::start();
    for piece in bytes.chunks(chunk) {
        daemon.send_raw(piece);
    }
    let last = daemon.call("listRuns", json!({}), REPLY).unwrap();
    prop_assert_eq!(&last["runs"], &json!([]));
    let ids: Vec<Value> = (FIRST_ID..FIRST_ID + valid).map(|id| json!(id)).collect();
    daemon.wait_until_messages("a response to every valid request", REPLY, |messages| {
        ids.iter().all(|id| messages.iter().any(|m| m["id"] == *id))
    });
    prop_assert_eq!(daemon.call("shutdown", json!(null), REPLY).unwrap(), json!(null));
    daemon.notify("exit", json!(null));
    let status = daemon.wait_exit(REPLY);
    prop_assert_eq!(status.code(), Some(0));

    let mut responses: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for message in daemon.messages().iter().filter(|m| m.get("method").is_none()) {
        responses.entry(message["id"].to_string()).or_default().push(message);
    }
    for id in &ids {
        let answers = responses.get(&id.to_string()).map_or(&[][..], Vec::as_slice);
        prop_assert_eq!(answers.len(), 1, "request {} answered {:?}", id, answers);
        prop_assert!(
            answers[0].get("result").is_some(),
            "request {} failed: {}",
            id,
            answers[0]
        );
    }
    for (id, answers) in &responses {
        if id.starts_with("\"g-") {
            // Two pieces of garbage may draw the same id: at most one answer for each that carries it.
            let carried = count(bytes, format!("\"id\":{id}").as_bytes());
            prop_assert!(
                (1..=carried.max(1)).contains(&answers.len()),
                "bad request {} answered {:?}",
                id,
                answers
            );
            prop_assert!(
                answers[0].get("error").is_some(),
                "bad request {} served: {:?}",
                id,
                answers
            );
        }
    }
    Ok(())
}

#[test]
fn garbage_between_requests_costs_only_itself_and_the_daemon_keeps_serving() {
    let config = Config {
        cases: CASES,
        // A failing case is printed, shrunk; nothing is written into the source tree.
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    runner
        .run(&(session(), 1usize..512), |((bytes, valid), chunk)| {
            check(&bytes, valid, chunk)
        })
        .unwrap();
}
