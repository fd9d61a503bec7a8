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
                let raw = i64::deserialize(deserializer)?;
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
        for raw in ["0", "-1", "1.5", "\"7\"", "18446744073709551616", "null"] {
            assert!(serde_json::from_str::<UserId>(raw).is_err(), "{raw}");
        }
    }
}
