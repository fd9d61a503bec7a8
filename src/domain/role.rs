//! A member's role in a conversation: its owner, who manages membership, or a member.

use serde::Serialize;

/// `conversation_members.role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Created the conversation: adds and removes members, deletes any message.
    Owner,
    /// Reads and writes; removes only themself.
    Member,
}

impl Role {
    /// The stored and the JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Member => "member",
        }
    }
}

/// A stored role that is neither spelling: the database holds something this code never wrote.
#[derive(Debug, thiserror::Error)]
#[error("unknown role {0:?}")]
pub struct UnknownRole(String);

impl TryFrom<String> for Role {
    type Error = UnknownRole;

    fn try_from(raw: String) -> Result<Role, UnknownRole> {
        match raw.as_str() {
            "owner" => Ok(Role::Owner),
            "member" => Ok(Role::Member),
            _ => Err(UnknownRole(raw)),
        }
    }
}

impl From<Role> for String {
    fn from(role: Role) -> String {
        role.as_str().to_string()
    }
}
