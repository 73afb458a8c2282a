//! The splitter on each way a frame can be broken, and a property: whatever garbage comes between good frames,
//! in whatever chunks, every good frame comes out whole, exactly once.

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::envelope::{frame, scan_id};

fn body(id: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "method": "listRuns", "params": {}}).to_string()
}

/// Every item of `input`, fed in chunks of `chunk` bytes, then flushed at end of input.
fn split(input: &[u8], chunk: usize) -> Vec<Item> {
    let mut splitter = Splitter::default();
    let mut items = Vec::new();
    for piece in input.chunks(chunk.max(1)) {
        splitter.push(piece);
        while let Some(item) = splitter.next(false) {
            items.push(item);
        }
    }
    while let Some(item) = splitter.next(true) {
        items.push(item);
    }
    items
}

/// The items of `bad` followed by a good frame: the bad ones, and the good frame's body last.
fn bad_then_good(bad: &[u8]) -> Vec<Item> {
    let good = body("good");
    let mut input = bad.to_vec();
    input.extend_from_slice(&frame(good.as_bytes()));
    let mut items = split(&input, input.len());
    assert_eq!(items.pop(), Some(Item::Body(good.into_bytes())), "{items:?}");
    items
}

/// The ids read from the bad items.
fn bad_ids(items: &[Item]) -> Vec<serde_json::Value> {
    items
        .iter()
        .map(|item| match item {
            Item::Bad { bytes, .. } => scan_id(bytes),
            Item::Body(body) => panic!("unexpected body {}", String::from_utf8_lossy(body)),
        })
        .collect()
}

#[test]
fn a_length_that_is_not_a_number_costs_its_message_only() {
    assert_eq!(bad_ids(&bad_then_good(b"Content-Length: abc\r\n\r\n{}")), [json!(null)]);
    let with_id = format!("Content-Length: abc\r\n\r\n{}", body("x"));
    assert_eq!(bad_ids(&bad_then_good(with_id.as_bytes())), [json!("x")]);
}

#[test]
fn a_missing_length_costs_its_message_only() {
    let typed = format!("Content-Type: a\r\n\r\n{}", body("t"));
    assert_eq!(bad_ids(&bad_then_good(typed.as_bytes())), [json!("t")]);
    assert_eq!(bad_ids(&bad_then_good(body("bare").as_bytes())), [json!("bare")]);
}

#[test]
fn lf_only_headers_cost_their_message_only() {
    let lf = format!("Content-Length: {}\n\n{}", body("lf").len(), body("lf"));
    assert_eq!(bad_ids(&bad_then_good(lf.as_bytes())), [json!("lf")]);
}

#[test]
fn a_short_length_costs_its_message_and_the_id_is_read_past_the_cut() {
    let short = format!("Content-Length: 10\r\n\r\n{}", body("short"));
    assert_eq!(bad_ids(&bad_then_good(short.as_bytes())), [json!("short")]);
}

#[test]
fn a_long_length_is_cut_at_the_next_frame_without_waiting_for_more_input() {
    let good = body("next");
    let mut input = b"Content-Length: 500\r\n\r\n{}".to_vec();
    input.extend_from_slice(&frame(good.as_bytes()));
    let mut splitter = Splitter::default();
    splitter.push(&input);
    assert!(matches!(splitter.next(false), Some(Item::Bad { .. })));
    assert_eq!(splitter.next(false), Some(Item::Body(good.into_bytes())));
}

#[test]
fn an_oversized_length_is_refused_at_once_and_its_body_never_buffered() {
    let mut splitter = Splitter::default();
    splitter.push(b"Content-Length: 1000000000000\r\n\r\n");
    assert!(matches!(splitter.next(false), Some(Item::Bad { .. })));
    for _ in 0..100 {
        splitter.push(&[b'x'; 64 * 1024]);
        assert_eq!(splitter.next(false), None);
        assert!(splitter.buf.len() < MARK.len(), "{} bytes kept", splitter.buf.len());
    }
    let good = body("after");
    splitter.push(&frame(good.as_bytes()));
    assert_eq!(splitter.next(false), Some(Item::Body(good.into_bytes())));
}

#[test]
fn garbage_glued_to_a_header_costs_only_the_garbage() {
    for garbage in [
        &b"abc"[..],
        b"a:b",
        b"{}",
        b"\x00\xff\r\n\r\n",
        b"Content-Length: 12",
        b"1",
    ] {
        assert_eq!(bad_then_good(garbage).len(), 1, "{garbage:?}");
    }
}

#[test]
fn a_header_block_without_a_body_waits_for_one_and_is_flushed_at_the_end() {
    let mut splitter = Splitter::default();
    splitter.push(b"Foo: bar\r\n\r\n");
    assert_eq!(splitter.next(false), None);
    assert!(matches!(splitter.next(true), Some(Item::Bad { .. })));
    assert_eq!(splitter.next(true), None);
}

/// Input that is no good frame; each kind is one of the ways a client (or an attacker) breaks framing.
fn garbage() -> impl Strategy<Value = Vec<u8>> {
    let id = "[a-z]{1,6}".prop_map(|s| format!("g-{s}"));
    prop_oneof![
        Just(b"Content-Length: abc\r\n\r\n{}".to_vec()),
        id.clone()
            .prop_map(|id| format!("Content-Type: x\r\n\r\n{}", body(&id)).into_bytes()),
        id.clone().prop_map(|id| body(&id).into_bytes()),
        id.clone()
            .prop_map(|id| format!("Content-Length: {}\n\n{}", body(&id).len(), body(&id)).into_bytes()),
        (id.clone(), 1usize..20).prop_map(|(id, n)| format!("Content-Length: {n}\r\n\r\n{}", body(&id)).into_bytes()),
        (id, 1usize..400).prop_map(|(id, extra)| {
            let b = body(&id);
            format!("Content-Length: {}\r\n\r\n{b}", b.len() + extra).into_bytes()
        }),
        Just(b"Content-Length: 1000000000000\r\n\r\n{\"jsonrpc\":".to_vec()),
        proptest::collection::vec(any::<u8>(), 1..64),
    ]
}

/// A stream of good frames (numbered) with garbage between them.
fn stream() -> impl Strategy<Value = (Vec<u8>, usize)> {
    proptest::collection::vec(proptest::option::of(garbage()), 1..12).prop_map(|slots| {
        let mut bytes = Vec::new();
        for (i, garbage) in slots.iter().enumerate() {
            if let Some(garbage) = garbage {
                bytes.extend_from_slice(garbage);
            }
            bytes.extend_from_slice(&frame(body(&format!("ok-{i}")).as_bytes()));
        }
        (bytes, slots.len())
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_good_frame_survives_any_garbage_in_any_chunks((input, good) in stream(), chunk in 1usize..200) {
        let items = split(&input, chunk);
        let bodies: Vec<String> = items
            .iter()
            .filter_map(|item| match item {
                Item::Body(body) => Some(String::from_utf8_lossy(body).into_owned()),
                Item::Bad { .. } => None,
            })
            .collect();
        let expected: Vec<String> = (0..good).map(|i| body(&format!("ok-{i}"))).collect();
        prop_assert_eq!(bodies, expected);
        for item in &items {
            if let Item::Bad { bytes, .. } = item {
                let id = scan_id(bytes);
                prop_assert!(!id.as_str().is_some_and(|id| id.starts_with("ok-")), "a good id in a bad item: {id}");
            }
        }
    }
}
