//! Reading RPC parameters off the raw request: the query string and a form
//! body, decoded as `application/x-www-form-urlencoded` (so `+` is a space,
//! as the Python SDKs send it).
//!
//! axum's `Form` extractor is not used: it rejects a POST without a form
//! `Content-Type`, and every SDK call is exactly that.

use axum::http::{HeaderMap, Uri, header};
use casim_model::Params;

/// Query parameters first, then form-body parameters, in arrival order.
pub fn from_request(uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Params {
    let mut params = Params::new();
    // The query may have been moved out of an over-long request line.
    if let Some(query) = crate::long_uri::query(uri, headers) {
        for (name, value) in form_urlencoded::parse(query.as_bytes()) {
            params.push(name, value);
        }
    }
    if !body.is_empty() && body_is_form(headers) {
        for (name, value) in form_urlencoded::parse(body) {
            params.push(name, value);
        }
    }
    params
}

/// A body is read as a form when it says so, or says nothing at all.
fn body_is_form(headers: &HeaderMap) -> bool {
    match headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        None => true,
        Some(content_type) => content_type.split(';').next().is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        }),
    }
}
