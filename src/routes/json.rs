//! [`JsonBody`]: like `web::Json`, but a body that parses as JSON and still does not fit
//! the request type gets a `400` naming the offending field (`members[2]`, `content`).

use std::future::Future;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON request body of type `T`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let value = web::Json::<serde_json::Value>::from_request(req, payload);
        Box::pin(async move {
            let web::Json(value) = value.await?;
            serde_path_to_error::deserialize(value)
                .map(JsonBody)
                .map_err(|e| {
                    let path = e.path().to_string();
                    let field = if path == "." {
                        "body".to_string()
                    } else {
                        path
                    };
                    AppError::BadRequest(format!("{field}: {}", e.into_inner())).into()
                })
        })
    }
}
