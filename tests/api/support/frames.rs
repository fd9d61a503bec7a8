//! The JSON frames of the protocol that tests send or expect, built in one place: a frame a
//! socket must receive word for word, frames the protocol calls malformed, and frames of an
//! exact size for the limits.

use serde_json::{json, Value};

use super::fixtures::TestUser;

/// The presence frame the protocol prescribes.
pub fn presence(id: i64, user: &TestUser, status: &str) -> Value {
    json!({"type": "presence", "conversation_id": id, "user_id": user.id, "status": status})
}

/// Text of exactly `len` bytes that is a well-formed `ping` frame.
pub fn ping_of_length(len: usize) -> String {
    let frame = json!({"type": "ping", "ref": ""}).to_string();
    let padding = "x".repeat(len - frame.len());
    json!({"type": "ping", "ref": padding}).to_string()
}

/// Frames the protocol calls malformed, named.
pub fn malformed_frames(id: i64) -> Vec<(&'static str, String)> {
    vec![
        ("not JSON", "this is not json".to_string()),
        ("a JSON array", "[1, 2, 3]".to_string()),
        ("no type", json!({"conversation_id": id}).to_string()),
        ("an unknown type", json!({"type": "dance"}).to_string()),
        ("a missing field", json!({"type": "join"}).to_string()),
        (
            "id 0",
            json!({"type": "join", "conversation_id": 0}).to_string(),
        ),
        (
            "a negative id",
            json!({"type": "join", "conversation_id": -3}).to_string(),
        ),
        (
            "a fractional id",
            json!({"type": "join", "conversation_id": 1.5}).to_string(),
        ),
        (
            "an id as a string",
            json!({"type": "join", "conversation_id": id.to_string()}).to_string(),
        ),
        (
            "an id past 64 bits",
            r#"{"type":"join","conversation_id":18446744073709551616}"#.to_string(),
        ),
        (
            "content as a number",
            json!({"type": "message", "conversation_id": id, "content": 5}).to_string(),
        ),
        (
            "a read without message_id",
            json!({"type": "read", "conversation_id": id}).to_string(),
        ),
        (
            "a zero message_id",
            json!({"type": "read", "conversation_id": id, "message_id": 0}).to_string(),
        ),
    ]
}
