//! Layer 4: CORS by actix-cors for `ALLOWED_ORIGINS` and the public origin, with
//! credentials. WebSocket upgrades pass untouched: CORS does not protect sockets, the
//! handshake checks `Origin` itself and answers 403 with a JSON body.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

use actix_cors::Cors;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::{header, Method};

use super::upgrade::is_websocket_upgrade;
use crate::config::Config;

/// actix-cors configured from [`Config::origin_allowed`], skipped for upgrades.
pub struct CorsLayer {
    config: Arc<Config>,
}

impl CorsLayer {
    /// The CORS layer for the configured origins.
    pub fn new(config: Arc<Config>) -> Self {
        CorsLayer { config }
    }

    fn cors(&self) -> Cors {
        let config = Arc::clone(&self.config);
        Cors::default()
            .allowed_origin_fn(move |origin, _| {
                origin.to_str().is_ok_and(|o| config.origin_allowed(o))
            })
            .allowed_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allowed_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
            .expose_headers([header::RETRY_AFTER, header::WWW_AUTHENTICATE])
            .supports_credentials()
            .block_on_origin_mismatch(false)
            .max_age(3600)
    }
}

/// Shares the inner service between the CORS-wrapped path and the upgrade path.
pub struct Shared<S>(Rc<S>);

impl<S: Service<ServiceRequest>> Service<ServiceRequest> for Shared<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&self, req: ServiceRequest) -> Self::Future {
        self.0.call(req)
    }
}

type CorsService<S> = actix_cors::CorsMiddleware<Shared<S>>;

impl<S, B> Transform<S, ServiceRequest> for CorsLayer
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Transform = CorsOrUpgrade<S>;
    type InitError = ();
    type Future = Pin<Box<dyn Future<Output = Result<Self::Transform, ()>>>>;

    fn new_transform(&self, service: S) -> Self::Future {
        let inner = Rc::new(service);
        let cors = self.cors().new_transform(Shared(Rc::clone(&inner)));
        Box::pin(async move {
            Ok(CorsOrUpgrade {
                cors: cors.await?,
                inner,
            })
        })
    }
}

/// The service built by [`CorsLayer`].
pub struct CorsOrUpgrade<S> {
    cors: CorsService<S>,
    inner: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for CorsOrUpgrade<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>>>>;

    actix_web::dev::forward_ready!(inner);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if is_websocket_upgrade(req.headers()) {
            let inner = Rc::clone(&self.inner);
            Box::pin(async move {
                inner
                    .call(req)
                    .await
                    .map(ServiceResponse::map_into_left_body)
            })
        } else {
            Box::pin(self.cors.call(req))
        }
    }
}
