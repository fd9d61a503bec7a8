//! Swagger UI at `/docs`: the page and its files come from the binary, under a Content
//! Security Policy of their own that allows no inline script; every other route keeps the
//! policy of the bundled page.

use crate::support::{spawn_app, spawn_site, Auth, Driver};

/// The policy of every route but `/docs`.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

#[actix_rt::test]
async fn docs_serves_swagger_ui_under_its_own_content_security_policy() {
    let app = spawn_app().await;

    let response = app.get("/docs", Auth::None).await;

    response.assert_status(200);
    assert!(response
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html")));
    let page = response.text();
    assert!(page.contains("id=\"swagger-ui\""), "{page}");
    assert!(page.contains("<base href=\"/docs/\">"), "{page}");
    let csp = response.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("style-src-attr 'unsafe-inline'"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "{csp}");
    assert_ne!(csp, PAGE_CSP);
}

#[actix_rt::test]
async fn the_docs_page_has_no_inline_script() {
    let app = spawn_app().await;

    let page = app
        .get("/docs/", Auth::None)
        .await
        .text()
        .to_ascii_lowercase();

    let scripts: Vec<&str> = page
        .match_indices("<script")
        .map(|(at, _)| &page[at..])
        .collect();
    assert!(!scripts.is_empty(), "{page}");
    for script in scripts {
        let tag = &script[..script.find('>').unwrap_or(script.len())];
        assert!(tag.contains("src="), "an inline script: {tag}");
    }
}

#[actix_rt::test]
async fn the_swagger_ui_files_are_served_and_read_the_openapi_document() {
    let app = spawn_app().await;
    for (file, kind) in [
        ("/docs/swagger-ui-bundle.js", "javascript"),
        ("/docs/swagger-ui-standalone-preset.js", "javascript"),
        ("/docs/swagger-ui.css", "text/css"),
        ("/docs/swagger-initializer.js", "javascript"),
    ] {
        let response = app.get(file, Auth::None).await;

        response.assert_status(200);
        assert!(
            response
                .header("content-type")
                .is_some_and(|t| t.contains(kind)),
            "{file}: {:?}",
            response.header("content-type")
        );
        assert!(!response.body.is_empty(), "{file}");
    }
    let initializer = app
        .get("/docs/swagger-initializer.js", Auth::None)
        .await
        .text();
    assert!(initializer.contains("\"/openapi.json\""), "{initializer}");
    assert!(
        initializer.contains("\"validatorUrl\": \"none\""),
        "{initializer}"
    );
}

#[actix_rt::test]
async fn a_missing_docs_file_is_a_json_404() {
    let app = spawn_app().await;

    let response = app.get("/docs/no-such-file.js", Auth::None).await;

    response.assert_error(404, "not_found");
}

#[actix_rt::test]
async fn the_content_security_policy_of_other_routes_is_unchanged() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/health",
        "/openapi.json",
        "/api/auth/me",
        "/docsx",
        "/nowhere",
    ] {
        let response = app.get(path, Auth::None).await;

        assert_eq!(
            response.header("content-security-policy"),
            Some(PAGE_CSP),
            "{path}"
        );
    }
}

#[actix_rt::test]
#[ignore = "needs chromium and chromium-driver"]
async fn swagger_ui_draws_the_api_in_a_browser_under_its_policy() {
    let site = spawn_site(&[]).await;
    let driver = Driver::start().await;
    let page = driver.browser(1280, 800).await;

    page.open(&site.url("/docs")).await;
    page.wait_until(
        "every operation drawn",
        "document.querySelectorAll('.opblock').length >= 29",
    )
    .await;
    page.click("#operations-messages-list_messages .opblock-summary-control")
        .await;

    page.wait_until(
        "conversation_id shown as a required parameter",
        "[...document.querySelectorAll('#operations-messages-list_messages .parameter__name.required')]\
            .some(e => e.textContent.includes('conversation_id'))",
    )
    .await;
    page.close().await;
}
