//! Ids as types: [`UserId`], [`ConversationId`] and [`MessageId`] are positive 64-bit
//! integers, and the only way to get one from a client is to parse it here. HTTP paths,
//! queries, bodies and socket frames all deserialize into these types, so zero, negatives,
//! fractions, strings and numbers past 64 bits are refused in one place, and an id that
//! reached a handler or the service layer is known to be well formed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use super::InvalidField;

/// Why a raw value is not an id.
pub const NOT_AN_ID: &str = "must be a positive integer";

/// The OpenAPI schema of every id: a 64-bit integer, at least 1.
fn positive_integer() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1))
        .into()
}

/// Reads a JSON number that is a whole 64-bit integer. JSON does not tell `7` from `7.0`
/// (JSON Schema counts both as integers), so a whole number written with a fraction part
/// is the same id; `7.5`, strings and numbers past 64 bits are not ids.
struct WholeNumber;

impl serde::de::Visitor<'_> for WholeNumber {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a positive integer")
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<i64, E> {
        Ok(v)
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<i64, E> {
        i64::try_from(v).map_err(|_| E::custom(NOT_AN_ID))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<i64, E> {
        // 2^63 is exactly representable; every whole f64 below it converts without loss.
        const LIMIT: f64 = 9_223_372_036_854_775_808.0;
        if v.fract() == 0.0 && v.abs() < LIMIT {
            // A whole number inside the range, so the cast is exact.
            Ok(v as i64)
        } else {
            Err(E::custom(NOT_AN_ID))
        }
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize,
            schemars::JsonSchema,
        )]
        #[serde(transparent)]
        pub struct $name(#[schemars(range(min = 1))] i64);

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                positive_integer()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $name {
            /// The id, if `raw` is positive.
            pub fn new(raw: i64) -> Option<Self> {
                (raw > 0).then_some($name(raw))
            }

            /// Parses the text of a path segment or query value, naming `field` when it is
            /// not an id.
            pub fn parse(field: &'static str, raw: &str) -> Result<Self, InvalidField> {
                raw.trim()
                    .parse::<i64>()
                    .ok()
                    .and_then($name::new)
                    .ok_or_else(|| super::invalid(field, NOT_AN_ID))
            }

            /// The plain number, for storage.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = deserializer.deserialize_any(WholeNumber)?;
                $name::new(raw).ok_or_else(|| serde::de::Error::custom(NOT_AN_ID))
            }
        }

        impl FromStr for $name {
            type Err = InvalidField;

            fn from_str(raw: &str) -> Result<Self, InvalidField> {
                $name::parse("id", raw)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    };
}

id_type!(
    /// A user's id (`users.id`).
    UserId
);
id_type!(
    /// A conversation's id (`conversations.id`).
    ConversationId
);
id_type!(
    /// A message's id (`messages.id`), increasing in commit order.
    MessageId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_positive_integers_are_ids() {
        assert_eq!(ConversationId::new(1).map(i64::from), Some(1));
        assert!(ConversationId::new(0).is_none());
        assert!(ConversationId::new(-3).is_none());
        assert_eq!(MessageId::parse("message_id", " 42 ").unwrap().get(), 42);
        for raw in ["0", "-1", "1.5", "abc", "", "18446744073709551616"] {
            let err = MessageId::parse("message_id", raw).unwrap_err();
            assert_eq!(err.to_string(), "message_id: must be a positive integer");
        }
    }

    #[test]
    fn json_ids_must_be_positive_integers() {
        assert_eq!(serde_json::from_str::<UserId>("7").unwrap().get(), 7);
        assert_eq!(serde_json::from_str::<UserId>("7.0").unwrap().get(), 7);
        for raw in [
            "0",
            "-1",
            "1.5",
            "-3.0",
            "\"7\"",
            "18446744073709551616",
            "9223372036854775808.0",
            "1e300",
            "null",
            "true",
        ] {
            assert!(serde_json::from_str::<UserId>(raw).is_err(), "{raw}");
        }
    }
}
