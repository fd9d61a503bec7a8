//! Logout revokes the login session server-side: its cookie, any copy of it and every
//! token naming it stop working, and nothing else does (docs/architecture.md, Data model,
//! on login sessions).

use awc::http::Method;

use crate::support::{spawn_app, Auth, SESSION_COOKIE};

#[actix_rt::test]
async fn logout_with_the_cookie_is_204_and_removes_the_cookie() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let (cookie, _) = app.another_login("alice").await;

    let response = app.logout(Auth::Cookie(cookie)).await;

    response.assert_status(204);
    let removal = response
        .cookie(SESSION_COOKIE)
        .expect("the response clears palaver_session");
    assert!(removal.value().is_empty(), "cleared value, got {removal:?}");
    let expired = removal
        .max_age()
        .is_some_and(|age| age.is_zero() || age.is_negative())
        || removal
            .expires_datetime()
            .is_some_and(|at| at.unix_timestamp() <= chrono::Utc::now().timestamp());
    assert!(expired, "the cookie is expired: {removal:?}");
}

#[actix_rt::test]
async fn a_replayed_cookie_after_logout_is_401() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let (cookie, _) = app.another_login("alice").await;
    app.logout(Auth::Cookie(cookie.clone()))
        .await
        .assert_status(204);

    let response = app.me(Auth::Cookie(cookie)).await;

    response.assert_error(401, "unauthorized");
    assert_eq!(response.header("www-authenticate"), Some("Bearer"));
}

#[actix_rt::test]
async fn a_token_of_the_same_login_is_401_after_a_cookie_logout() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let (cookie, token) = app.another_login("alice").await;
    app.me(Auth::Bearer(token.clone())).await.assert_status(200);

    app.logout(Auth::Cookie(cookie)).await.assert_status(204);

    app.me(Auth::Bearer(token))
        .await
        .assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_token_of_another_login_of_the_same_user_still_works_after_logout() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let (cookie, _) = app.another_login("alice").await;
    let (other_cookie, other_token) = app.another_login("alice").await;

    app.logout(Auth::Cookie(cookie)).await.assert_status(204);

    app.me(Auth::Bearer(other_token)).await.assert_status(200);
    app.me(Auth::Cookie(other_cookie)).await.assert_status(200);
}

#[actix_rt::test]
async fn logout_with_a_bearer_token_revokes_that_token() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    app.logout(&alice).await.assert_status(204);

    app.me(&alice).await.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn logout_with_a_bearer_token_revokes_the_cookie_of_that_login() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let (cookie, token) = app.another_login("alice").await;

    app.logout(Auth::Bearer(token)).await.assert_status(204);

    app.me(Auth::Cookie(cookie))
        .await
        .assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_token_refreshed_before_logout_dies_with_its_login() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let refreshed = app.refresh_token(&alice).await.json()["token"]
        .as_str()
        .expect("token")
        .to_string();

    app.logout(&alice).await.assert_status(204);

    app.me(Auth::Bearer(refreshed))
        .await
        .assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_revoked_login_cannot_refresh_its_token() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    app.logout(&alice).await.assert_status(204);

    let response = app.refresh_token(&alice).await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn logout_without_credentials_is_401() {
    let app = spawn_app().await;

    let response = app.logout(Auth::None).await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn logging_in_again_after_logout_works() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    app.logout(&alice).await.assert_status(204);

    let (cookie, token) = app.another_login("alice").await;

    app.me(Auth::Bearer(token)).await.assert_status(200);
    app.me(Auth::Cookie(cookie)).await.assert_status(200);
}

#[actix_rt::test]
async fn a_revoked_login_stays_revoked_after_a_restart() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    app.logout(&alice).await.assert_status(204);

    let restarted = app.another_instance().await;

    restarted.me(&alice).await.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_live_login_survives_a_restart() {
    // The control for the test above: the restarted server does accept this server's tokens.
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let restarted = app.another_instance().await;

    restarted.me(&alice).await.assert_status(200);
}

#[actix_rt::test]
async fn a_second_logout_with_the_same_token_is_401() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    app.logout(&alice).await.assert_status(204);

    let response = app
        .send(app.request(Method::POST, "/api/auth/logout", &(&alice).into()))
        .await;

    response.assert_error(401, "unauthorized");
}
