//! Bearer tokens: what they carry, and every claim checked on every use (docs/api.md;
//! a token signed with another secret never gets in).

use jsonwebtoken::Algorithm;
use serde_json::{json, Value};

use crate::support::{
    app_with_known_secret, base64_url_nopad, decode_claims, registration_claims, sign, spawn_app,
    spawn_app_with, Auth, KNOWN_SECRET, PASSWORD,
};

#[actix_rt::test]
async fn issued_tokens_carry_sub_sid_iat_exp_iss_and_aud() {
    let (_app, alice) = app_with_known_secret().await;

    let claims = decode_claims(&alice.token, KNOWN_SECRET);

    assert_eq!(claims["sub"], alice.id.to_string());
    assert!(
        claims["sid"].as_str().is_some_and(|s| !s.is_empty()),
        "{claims}"
    );
    assert_eq!(claims["iss"], "palaver");
    assert_eq!(claims["aud"], "palaver");
    let (iat, exp) = (
        claims["iat"].as_i64().expect("iat"),
        claims["exp"].as_i64().expect("exp"),
    );
    assert_eq!(exp - iat, 3600, "JWT_TTL_SECS defaults to an hour");
}

#[actix_rt::test]
async fn expires_at_matches_the_token_exp() {
    let (app, _) = app_with_known_secret().await;

    let response = app.login("alice", PASSWORD).await;

    let body = response.json();
    let exp = decode_claims(body["token"].as_str().expect("token"), KNOWN_SECRET)["exp"]
        .as_i64()
        .expect("exp");
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().expect("expires_at"))
            .expect("RFC 3339");
    assert_eq!(expires_at.timestamp(), exp);
}

#[actix_rt::test]
async fn a_token_made_with_the_servers_secret_and_valid_claims_is_accepted() {
    // The control for the refusals below: each of them changes one thing of this token.
    let (app, alice) = app_with_known_secret().await;
    let token = sign(
        &registration_claims(&app, &alice),
        KNOWN_SECRET,
        Algorithm::HS256,
    );

    let response = app.me(Auth::Bearer(token)).await;

    response.assert_status(200);
}

#[actix_rt::test]
async fn a_token_signed_with_another_secret_is_401() {
    let (app, alice) = app_with_known_secret().await;
    let token = sign(
        &registration_claims(&app, &alice),
        "another-secret-of-at-least-32-bytes!!",
        Algorithm::HS256,
    );

    let response = app.me(Auth::Bearer(token)).await;

    response.assert_error(401, "unauthorized");
    assert_eq!(response.header("www-authenticate"), Some("Bearer"));
}

#[actix_rt::test]
async fn a_token_of_another_server_instance_is_401() {
    let other = spawn_app().await;
    let stranger = other.signup("alice").await;
    let app = spawn_app().await;
    app.signup("alice").await;

    let response = app.me(&stranger).await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn an_expired_token_is_401() {
    let (app, alice) = app_with_known_secret().await;
    let mut claims = registration_claims(&app, &alice);
    let now = chrono::Utc::now().timestamp();
    claims["iat"] = json!(now - 7200);
    claims["exp"] = json!(now - 60);

    let response = app
        .me(Auth::Bearer(sign(&claims, KNOWN_SECRET, Algorithm::HS256)))
        .await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_token_with_another_issuer_is_401() {
    let (app, alice) = app_with_known_secret().await;
    let mut claims = registration_claims(&app, &alice);
    claims["iss"] = json!("someone-else");

    let response = app
        .me(Auth::Bearer(sign(&claims, KNOWN_SECRET, Algorithm::HS256)))
        .await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_token_for_another_audience_is_401() {
    let (app, alice) = app_with_known_secret().await;
    let mut claims = registration_claims(&app, &alice);
    claims["aud"] = json!("another-service");

    let response = app
        .me(Auth::Bearer(sign(&claims, KNOWN_SECRET, Algorithm::HS256)))
        .await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_token_missing_a_required_claim_is_401() {
    let (app, alice) = app_with_known_secret().await;
    for claim in ["sub", "sid", "iat", "exp", "iss", "aud"] {
        let mut claims = registration_claims(&app, &alice);
        claims.as_object_mut().expect("claims object").remove(claim);

        let response = app
            .me(Auth::Bearer(sign(&claims, KNOWN_SECRET, Algorithm::HS256)))
            .await;

        assert_eq!(
            response.status.as_u16(),
            401,
            "a token without {claim}: {}",
            response.text()
        );
    }
}

#[actix_rt::test]
async fn a_token_not_valid_before_a_future_time_is_401() {
    let (app, alice) = app_with_known_secret().await;
    let mut claims = registration_claims(&app, &alice);
    claims["nbf"] = json!(chrono::Utc::now().timestamp() + 600);

    let response = app
        .me(Auth::Bearer(sign(&claims, KNOWN_SECRET, Algorithm::HS256)))
        .await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_token_issued_in_the_future_is_401() {
    let (app, alice) = app_with_known_secret().await;
    let mut claims = registration_claims(&app, &alice);
    let now = chrono::Utc::now().timestamp();
    claims["iat"] = json!(now + 600);
    claims["exp"] = json!(now + 1200);

    let response = app
        .me(Auth::Bearer(sign(&claims, KNOWN_SECRET, Algorithm::HS256)))
        .await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_token_signed_with_another_algorithm_is_401() {
    let (app, alice) = app_with_known_secret().await;
    let claims = registration_claims(&app, &alice);

    let response = app
        .me(Auth::Bearer(sign(&claims, KNOWN_SECRET, Algorithm::HS512)))
        .await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn an_unsigned_token_is_401() {
    let (app, alice) = app_with_known_secret().await;
    let claims = registration_claims(&app, &alice);
    let encode_part = |v: &Value| base64_url_nopad(&serde_json::to_vec(v).expect("json"));
    let token = format!(
        "{}.{}.",
        encode_part(&json!({"alg": "none", "typ": "JWT"})),
        encode_part(&claims)
    );

    let response = app.me(Auth::Bearer(token)).await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_fresh_token_from_post_token_works() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app.refresh_token(&alice).await;

    response.assert_status(200);
    let body = response.json();
    assert!(body["expires_at"].is_string(), "{body}");
    let token = body["token"].as_str().expect("token").to_string();
    let me = app.me(Auth::Bearer(token)).await;
    me.assert_status(200);
    assert_eq!(me.json()["user"]["id"], alice.id);
}

#[actix_rt::test]
async fn a_fresh_token_can_be_had_with_the_session_cookie() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;
    let cookie = app.login_cookie(&alice).await;

    let response = app.refresh_token(Auth::Cookie(cookie)).await;

    response.assert_status(200);
    let token = response.json()["token"]
        .as_str()
        .expect("token")
        .to_string();
    app.me(Auth::Bearer(token)).await.assert_status(200);
}

#[actix_rt::test]
async fn post_token_without_credentials_is_401() {
    let app = spawn_app().await;

    let response = app.refresh_token(Auth::None).await;

    response.assert_error(401, "unauthorized");
}

#[actix_rt::test]
async fn a_token_within_the_5_second_leeway_of_its_expiry_is_accepted() {
    let (app, alice) = app_with_known_secret().await;
    let mut claims = registration_claims(&app, &alice);
    claims["exp"] = json!(chrono::Utc::now().timestamp() - 1);

    let response = app
        .me(Auth::Bearer(sign(&claims, KNOWN_SECRET, Algorithm::HS256)))
        .await;

    response.assert_status(200);
}

#[actix_rt::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app().await;
    let alice = app.signup("alice").await;

    let response = app
        .me(Auth::Header(format!("bearer {}", alice.token)))
        .await;

    response.assert_status(200);
}

#[actix_rt::test]
async fn jwt_ttl_secs_sets_the_lifetime_of_issued_tokens() {
    let app = spawn_app_with(&[("JWT_SECRET", KNOWN_SECRET), ("JWT_TTL_SECS", "120")]).await;
    let alice = app.signup("alice").await;

    let claims = decode_claims(&alice.token, KNOWN_SECRET);

    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        120
    );
}

#[actix_rt::test]
async fn jwt_issuer_and_audience_are_issued_and_required() {
    let app = spawn_app_with(&[
        ("JWT_SECRET", KNOWN_SECRET),
        ("JWT_ISSUER", "chat-auth"),
        ("JWT_AUDIENCE", "chat-api"),
    ])
    .await;
    let alice = app.signup("alice").await;
    let issued = decode_claims(&alice.token, KNOWN_SECRET);
    let mut defaults = issued.clone();
    defaults["iss"] = json!("palaver");
    defaults["aud"] = json!("palaver");

    let with_defaults = app
        .me(Auth::Bearer(sign(
            &defaults,
            KNOWN_SECRET,
            Algorithm::HS256,
        )))
        .await;

    assert_eq!(
        (issued["iss"].as_str(), issued["aud"].as_str()),
        (Some("chat-auth"), Some("chat-api"))
    );
    app.me(&alice).await.assert_status(200);
    with_defaults.assert_error(401, "unauthorized");
}
