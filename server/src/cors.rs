//! Cross-origin reads of the public answers: a shop's page on its own origin
//! shows availability and runs the browser preview from this server's
//! availability, catalog and events. Those carry no customer data, so they answer
//! any origin (`Access-Control-Allow-Origin: *`). Nothing else does: every call
//! that needs a key stays same-origin, and a browser on another origin may not
//! even send one (no preflight is answered for it).

use crate::state::App;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_MAX_AGE,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;

/// `route`'s answers (errors too) readable from any origin. Only the methods
/// `route` has so far: add the public GET, then layer, then anything else.
pub(crate) fn public(route: MethodRouter<App>) -> MethodRouter<App> {
    route.layer(axum::middleware::map_response(any_origin))
}

async fn any_origin(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// The preflight of a public GET that carries `Last-Event-ID` (an `EventSource`
/// reconnecting across origins sends it).
pub(crate) async fn preflight() -> impl IntoResponse {
    (
        StatusCode::NO_CONTENT,
        [
            (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            (ACCESS_CONTROL_ALLOW_METHODS, "GET"),
            (ACCESS_CONTROL_ALLOW_HEADERS, "last-event-id"),
            (ACCESS_CONTROL_MAX_AGE, "600"),
        ],
    )
}
