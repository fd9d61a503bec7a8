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

#[cfg(test)]
mod tests {
    use actix_web::{test::TestRequest, FromRequest};
    use serde::Deserialize;

    use super::JsonBody;
    use crate::domain::ConversationId;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)] // Read only to check that it parses.
    struct Body {
        conversation_id: ConversationId,
        content: String,
    }

    /// The status `bytes` get as a JSON body, or 200 when they parse.
    fn status_of(bytes: Vec<u8>) -> u16 {
        let (req, mut payload) = TestRequest::post()
            .insert_header(("content-type", "application/json"))
            .set_payload(bytes)
            .to_http_parts();
        let parsed =
            actix_rt::System::new().block_on(JsonBody::<Body>::from_request(&req, &mut payload));
        match parsed {
            Ok(_) => 200,
            Err(e) => e.as_response_error().status_code().as_u16(),
        }
    }

    proptest::proptest! {
        /// Whatever bytes arrive, the body is read or refused with 400 (or 413), never a
        /// panic and never a 500.
        #[test]
        fn any_bytes_are_read_or_refused_as_a_client_error(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let status = status_of(bytes);
            proptest::prop_assert!(matches!(status, 200 | 400 | 413), "status {}", status);
        }

        /// JSON of the right shape with values of any kind is read or refused with 400.
        #[test]
        fn any_json_object_is_read_or_refused_with_400(id in proptest::num::i64::ANY, content in ".*") {
            let body = serde_json::json!({"conversation_id": id, "content": content});
            let status = status_of(body.to_string().into_bytes());
            proptest::prop_assert_eq!(status, if id > 0 { 200 } else { 400 });
        }
    }
}
