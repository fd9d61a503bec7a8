//! A credential proves an identity only through a live `sessions` row: a correctly signed
//! token whose `sid` names no session is refused on HTTP and before the upgrade, like a
//! revoked one.

use serde_json::json;

use crate::support::{
    assert_handshake_refused, bearer, handmade_token, handshake_mode_app, spawn_app,
    upgrade_request, Auth, WsClient,
};

#[actix_rt::test]
async fn a_signed_token_naming_no_session_is_401_on_http() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let token = handmade_token(
        &app,
        &alice,
        &json!({"sid": "0123456789abcdef0123456789abcdef"}),
    );

    let response = app.get("/api/auth/me", Auth::Bearer(token)).await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_signed_token_naming_no_session_is_401_before_the_upgrade() {
    let (app, alice) = handshake_mode_app().await;
    let token = handmade_token(&app, &alice, &json!({"sid": "not-a-session"}));

    let response = app
        .raw_request(&upgrade_request("/ws", &bearer(&token)))
        .await;

    assert_handshake_refused(&response, 401, "unauthorized");
}

#[actix_rt::test]
async fn a_token_naming_another_users_session_is_401() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let bobs_session = crate::support::claims_of(&app, &bob.token)["sid"].clone();
    let token = handmade_token(&app, &alice, &json!({ "sid": bobs_session }));

    let response = app.get("/api/auth/me", Auth::Bearer(token)).await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_first_message_token_naming_no_session_closes_1008() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let token = handmade_token(&app, &alice, &json!({"sid": "not-a-session"}));
    let mut socket = WsClient::connect(&app, "/ws", crate::support::WsAuth::None).await;

    socket
        .send_json(&json!({"type": "auth", "token": token}))
        .await;

    assert_eq!(socket.close_code().await, 1008);
}
