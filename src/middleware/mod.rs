//! The middleware chain (docs/architecture.md), outermost first:
//!
//! 1. request log, 2. security headers, 3. error normaliser, 4. CORS, 5. session,
//! 6. auth context, 7. auth gate.
//!
//! The request log is outermost so that it sees every answer, refusals of the inner layers
//! and panics turned into 500 included: it writes the log line and records the HTTP
//! series (by route template, status and latency) in one place.
//!
//! actix-web runs the wrapper registered last first, so a hand-written `.wrap` list reads
//! backwards, and a wrong order compiles. Here [`Chain`] takes the layers one by one in
//! the order above (each step only exists on the previous step's type, so a misordered
//! chain does not compile), and [`Chain::into_app`] is the only function that registers
//! them, in reverse, on a fresh `App`. No layer can be built and then left out.

pub mod auth_context;
pub mod auth_gate;
pub mod cors;
pub mod errors;
pub mod request_log;
pub mod security_headers;
pub mod session;
pub mod upgrade;

use actix_session::storage::CookieSessionStore;
use actix_session::SessionMiddleware;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::web::Data;
use actix_web::App;

pub use auth_gate::{Access, RouteTable};
pub use cors::CorsLayer;
pub use security_headers::SecurityHeaders;
pub use upgrade::is_websocket_upgrade;

use crate::state::AppState;

/// Layer 1 marker.
pub struct RequestLog;
/// Layer 3 marker.
pub struct ErrorNormaliser;
/// Layer 5.
pub type SessionLayer = SessionMiddleware<CookieSessionStore>;
/// Layer 6 marker.
pub struct AuthContext;
/// Layer 7: the route table it guards.
pub struct AuthGate(pub RouteTable);

/// The chain as built so far; `L` records which layers it holds, in order.
pub struct Chain<L>(L);

impl Chain<()> {
    /// An empty chain; the only next step is the request log.
    pub fn new() -> Self {
        Chain(())
    }

    /// Layer 1, outermost: one line per request.
    pub fn request_log(self, layer: RequestLog) -> Chain<(RequestLog,)> {
        Chain((layer,))
    }
}

impl Default for Chain<()> {
    fn default() -> Self {
        Chain::new()
    }
}

impl Chain<(RequestLog,)> {
    /// Layer 2: the security headers, skipped on a 101.
    pub fn security_headers(self, layer: SecurityHeaders) -> Chain<(RequestLog, SecurityHeaders)> {
        Chain((self.0 .0, layer))
    }
}

impl Chain<(RequestLog, SecurityHeaders)> {
    /// Layer 3: every error becomes the JSON body, inside the security headers.
    pub fn error_normaliser(
        self,
        layer: ErrorNormaliser,
    ) -> Chain<(RequestLog, SecurityHeaders, ErrorNormaliser)> {
        let (a, b) = self.0;
        Chain((a, b, layer))
    }
}

impl Chain<(RequestLog, SecurityHeaders, ErrorNormaliser)> {
    /// Layer 4: CORS for HTTP; upgrades pass untouched.
    pub fn cors(
        self,
        layer: CorsLayer,
    ) -> Chain<(RequestLog, SecurityHeaders, ErrorNormaliser, CorsLayer)> {
        let (a, b, c) = self.0;
        Chain((a, b, c, layer))
    }
}

impl Chain<(RequestLog, SecurityHeaders, ErrorNormaliser, CorsLayer)> {
    /// Layer 5: the cookie session, which layer 6 reads.
    pub fn session(
        self,
        layer: SessionLayer,
    ) -> Chain<(
        RequestLog,
        SecurityHeaders,
        ErrorNormaliser,
        CorsLayer,
        SessionLayer,
    )> {
        let (a, b, c, d) = self.0;
        Chain((a, b, c, d, layer))
    }
}

/// The chain up to the session layer.
type UpToSession = (
    RequestLog,
    SecurityHeaders,
    ErrorNormaliser,
    CorsLayer,
    SessionLayer,
);
/// The chain up to the auth context.
type UpToContext = (
    RequestLog,
    SecurityHeaders,
    ErrorNormaliser,
    CorsLayer,
    SessionLayer,
    AuthContext,
);
/// The whole chain.
type Complete = (
    RequestLog,
    SecurityHeaders,
    ErrorNormaliser,
    CorsLayer,
    SessionLayer,
    AuthContext,
    AuthGate,
);

impl Chain<UpToSession> {
    /// Layer 6: the proven identity into the request extensions.
    pub fn auth_context(self, layer: AuthContext) -> Chain<UpToContext> {
        let (a, b, c, d, e) = self.0;
        Chain((a, b, c, d, e, layer))
    }
}

impl Chain<UpToContext> {
    /// Layer 7, innermost: protected routes need an identity; upgrades are exempt.
    pub fn auth_gate(self, layer: AuthGate) -> Chain<Complete> {
        let (a, b, c, d, e, f) = self.0;
        Chain((a, b, c, d, e, f, layer))
    }
}

impl Chain<Complete> {
    /// A fresh `App` with the seven layers installed, outermost first as listed above.
    pub fn into_app(
        self,
        state: Data<AppState>,
    ) -> App<
        impl ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<impl MessageBody>,
            Error = actix_web::Error,
            InitError = (),
        >,
    > {
        let (RequestLog, headers, ErrorNormaliser, cors, session, AuthContext, AuthGate(routes)) =
            self.0;
        // Registered innermost first: actix runs the last `wrap` first.
        App::new()
            .app_data(state)
            .app_data(Data::new(headers))
            .app_data(Data::new(routes))
            .wrap(from_fn(auth_gate::guard_routes))
            .wrap(from_fn(auth_context::resolve_identity))
            .wrap(session)
            .wrap(cors)
            .wrap(from_fn(errors::normalise_errors))
            .wrap(from_fn(security_headers::add_security_headers))
            .wrap(from_fn(request_log::log_request))
    }
}
