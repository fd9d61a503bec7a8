//! The bundled chat page: `/` and its assets under `/static/`.

use std::path::PathBuf;

use actix_files::NamedFile;

use crate::error::AppError;

/// `static/` in the working directory (the container's `/app/static`), or the one beside
/// the sources when run from elsewhere in a checkout.
pub fn static_dir() -> PathBuf {
    let local = PathBuf::from("static");
    if local.join("index.html").is_file() {
        local
    } else {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
    }
}

/// `GET /`: the chat page.
#[utoipa::path(get, path = "/", tag = "service", responses((status = 200, description = "the chat page", content_type = "text/html")))]
pub async fn index() -> Result<NamedFile, AppError> {
    NamedFile::open_async(static_dir().join("index.html"))
        .await
        .map_err(|e| {
            AppError::Internal(anyhow::Error::new(e).context("the bundled page is missing"))
        })
}
