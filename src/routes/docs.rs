//! `/docs`: Swagger UI over `/openapi.json`. Its files are compiled into the binary (the
//! `utoipa-swagger-ui` crate's vendored copy), so nothing is fetched at build or run time,
//! and its scripts and styles are files of their own, which the `/docs` Content Security
//! Policy (`middleware::security_headers`) allows and nothing more.

use std::sync::Arc;

use actix_web::{http::header::ContentType, web, HttpResponse};
use utoipa_swagger_ui::Config;

use crate::error::AppError;

/// Where the UI reads the document from.
const OPENAPI_URL: &str = "/openapi.json";

/// The UI's settings: the one document, no request to an outside validator, the token
/// entered under "Authorize" kept across reloads of the page.
fn ui_config() -> Arc<Config<'static>> {
    Arc::new(
        Config::from(OPENAPI_URL)
            .validator_url("none")
            .persist_authorization(true)
            .try_it_out_enabled(true)
            .display_request_duration(true),
    )
}

/// `GET /docs`: Swagger UI, the API reference to read and try.
#[utoipa::path(get, path = "/docs", tag = "service",
    responses((status = 200, description = "Swagger UI over /openapi.json", content_type = "text/html")))]
pub async fn docs_page() -> Result<HttpResponse, AppError> {
    serve("index.html")
}

/// `GET /docs/{file}`: the UI's scripts, styles and icons.
pub async fn docs_asset(file: web::Path<String>) -> Result<HttpResponse, AppError> {
    let file = file.into_inner();
    serve(if file.is_empty() { "index.html" } else { &file })
}

fn serve(file: &str) -> Result<HttpResponse, AppError> {
    let found = utoipa_swagger_ui::serve(file, ui_config())
        .map_err(|e| AppError::Internal(anyhow::anyhow!("cannot serve /docs/{file}: {e}")))?;
    let Some(found) = found else {
        return Err(AppError::NotFound(format!("no route for /docs/{file}")));
    };
    if file == "index.html" {
        // The page links its files relatively (`./swagger-ui.css`); anchored at /docs/ they
        // resolve the same from `/docs` and `/docs/`.
        let html = String::from_utf8_lossy(&found.bytes).replacen(
            "<head>",
            "<head><base href=\"/docs/\">",
            1,
        );
        return Ok(HttpResponse::Ok()
            .insert_header(ContentType::html())
            .body(html.replace("<title>Swagger UI</title>", "<title>palaver API</title>")));
    }
    Ok(HttpResponse::Ok()
        .content_type(found.content_type)
        .body(found.bytes.into_owned()))
}
