//! Security headers on every response (pages, assets, API): a Content-Security-Policy with no
//! inline script or style, no framing, no MIME sniffing, referrers kept to this origin, and
//! HSTS when the service is reached over HTTPS. A handler that sets one of these headers itself
//! keeps its own value.

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;

/// GOV.UK Frontend 6 and MOJ Frontend need no inline script or style; `data:` images are
/// allowed because the GOV.UK stylesheet may inline small icons.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000; includeSubDomains";

/// The headers middleware; `https` is true when `service.base_url` is https.
///
/// Responses are also `Cache-Control: no-store` unless they say otherwise (the embedded
/// assets do): pages and API answers carry case details that must not stay in caches.
pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::CACHE_CONTROL, "no-store"));
    if https {
        headers.add((header::STRICT_TRANSPORT_SECURITY, STRICT_TRANSPORT_SECURITY))
    } else {
        headers
    }
}
