//! The tables, in SQL types both backends share (see `migrations/postgres` and
//! `migrations/sqlite`, which create the same tables).

// `diesel::table!` generates a module, a struct and a column type per column; the
// columns are documented where they matter, on the rows in `models.rs`.
#![allow(missing_docs)]

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        display_name -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        user_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    conversations (id) {
        id -> BigInt,
        title -> Text,
        owner_id -> BigInt,
        created_at -> Timestamp,
        last_seq -> BigInt,
    }
}

diesel::table! {
    conversation_members (conversation_id, user_id) {
        conversation_id -> BigInt,
        user_id -> BigInt,
        role -> Text,
        joined_at -> Timestamp,
        last_read_message_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        conversation_id -> BigInt,
        seq -> BigInt,
        sender_id -> BigInt,
        client_msg_id -> Nullable<Text>,
        content -> Text,
        created_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(conversations -> users (owner_id));
diesel::joinable!(conversation_members -> conversations (conversation_id));
diesel::joinable!(conversation_members -> users (user_id));
diesel::joinable!(messages -> conversations (conversation_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    conversations,
    conversation_members,
    messages
);
