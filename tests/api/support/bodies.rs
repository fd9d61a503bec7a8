//! Reading what came back: the lists a test compares inside JSON bodies and frames (ids,
//! usernames, roles, `seq` numbers), pulled out in one place so each test asserts on plain
//! vectors instead of walking JSON itself.

use std::collections::BTreeSet;

use serde_json::Value;

use super::response::TestResponse;

/// The `id` of each of `items`, in order.
pub fn ids_of(items: &[Value]) -> Vec<i64> {
    items
        .iter()
        .map(|m| m["id"].as_i64().expect("id"))
        .collect()
}

/// The `id` of each entry of the JSON array `list`, in order.
pub fn ids_in(list: &Value) -> Vec<i64> {
    ids_of(list.as_array().expect("messages"))
}

/// The ids of the conversations a `GET /api/conversations` lists, in its order.
pub fn listed_ids(response: &TestResponse) -> Vec<i64> {
    ids_of(
        response.json()["conversations"]
            .as_array()
            .expect("conversations"),
    )
}

/// `(ids, has_more)` of a page of `GET /api/messages`; asserts it is a `200`.
pub fn page(response: &TestResponse) -> (Vec<i64>, bool) {
    response.assert_status(200);
    let body = response.json();
    (
        ids_in(&body["messages"]),
        body["has_more"].as_bool().expect("has_more"),
    )
}

/// `(username, role)` of each member of `conversation`, sorted.
pub fn member_roles(conversation: &Value) -> Vec<(String, String)> {
    let mut roles: Vec<(String, String)> = conversation["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| {
            let name = m["user"]["username"]
                .as_str()
                .expect("member username")
                .to_string();
            (name, m["role"].as_str().expect("role").to_string())
        })
        .collect();
    roles.sort();
    roles
}

/// Whether the conversation in `response` lists `username` among its members.
pub fn has_member(response: &TestResponse, username: &str) -> bool {
    response.json()["conversation"]["members"]
        .as_array()
        .expect("members")
        .iter()
        .any(|m| m["user"]["username"] == username)
}

/// The usernames a `GET /api/users` found, in its order.
pub fn usernames(response: &TestResponse) -> Vec<String> {
    response.json()["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["username"].as_str().expect("username").to_string())
        .collect()
}

/// The `seq` of each of `messages`, sorted, for checks that ignore arrival order.
pub fn sorted_seqs(messages: &[Value]) -> Vec<i64> {
    let mut seqs: Vec<i64> = messages
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect();
    seqs.sort_unstable();
    seqs
}

/// Asserts `messages`, as `who` saw them, number 1, 2, 3 … in order with ids increasing.
#[track_caller]
pub fn assert_in_order_without_gaps(who: &str, messages: &[Value]) {
    let seqs: Vec<i64> = messages
        .iter()
        .map(|m| m["seq"].as_i64().expect("seq"))
        .collect();
    let expected: Vec<i64> = (1..=messages.len() as i64).collect();
    assert_eq!(seqs, expected, "{who} sees seq 1, 2, 3 … in order");
    let ids = ids_of(messages);
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "{who} sees ids increasing: {ids:?}"
    );
}

/// Every string anywhere in `value`, added to `found`.
pub fn strings_in(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => {
            found.insert(s.clone());
        }
        Value::Array(items) => items.iter().for_each(|v| strings_in(v, found)),
        Value::Object(map) => map.values().for_each(|v| strings_in(v, found)),
        _ => {}
    }
}
