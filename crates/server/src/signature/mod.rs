//! Checking who signed an RPC request, the way the ECS gateway does, for
//! both schemes the SDKs use (`spec/api-facts.md` §5.3, §5.4):
//!
//! * V1: `Signature` parameter, HMAC-SHA1 over the sorted parameters
//!   (classic SDKs, and Tea SDKs configured with `signatureAlgorithm: 'v2'`);
//! * V3: `Authorization: ACS3-HMAC-SHA256 …` header, HMAC-SHA256 over a
//!   canonical request (Tea SDKs by default).
//!
//! [`verify_signature`] answers only "is this signed by a key we know". How
//! old the request is ([`check_freshness`]) and whether it was seen before
//! ([`NonceCache`]) are separate checks, so recorded requests (whose
//! timestamps are long past) still verify, and a caller can choose which
//! checks it wants and in which order.

mod keys;
mod replay;
mod v1;
mod v3;

use axum::http::{HeaderMap, Method, Uri, header};
use casim_model::{ApiError, Params};

pub use keys::{AccessKeyError, AccessKeys, KeyProblem};
pub use replay::{
    FRESHNESS_TOLERANCE_MILLIS, NonceCache, check_freshness, signature_nonce, wall_now,
};

/// The parts of a received request that signatures cover, borrowed from the
/// handler's extractors.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// The method as received (`POST`, `GET`); both schemes sign it.
    pub method: &'a str,
    /// The raw query string after `?`, still percent-encoded. V3 signs the
    /// query alone (the body is covered by its hash).
    pub raw_query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// Query and form-body parameters together, decoded, as
    /// [`crate::params::from_request`] reads them. V1 signs all of them.
    pub params: &'a Params,
}

impl<'a> SignedRequest<'a> {
    /// The request as axum hands it to a handler.
    pub fn new(
        method: &'a Method,
        uri: &'a Uri,
        headers: &'a HeaderMap,
        body: &'a [u8],
        params: &'a Params,
    ) -> SignedRequest<'a> {
        SignedRequest {
            method: method.as_str(),
            raw_query: crate::long_uri::query(uri, headers),
            headers,
            body,
            params,
        }
    }

    /// Which scheme the request claims, if any.
    pub fn scheme(&self) -> Option<SignatureScheme> {
        if self.authorization().is_some() {
            Some(SignatureScheme::V3)
        } else if self.params.raw("Signature").is_some() {
            Some(SignatureScheme::V1)
        } else {
            None
        }
    }

    /// The `Authorization` header when it is of the ACS3 family. Any other
    /// `Authorization` (a proxy's `Basic …`, say) is not ours to judge.
    fn authorization(&self) -> Option<&'a str> {
        let value = self.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        value.trim_start().starts_with("ACS3-").then_some(value)
    }

    /// The first value of a header, when it is text.
    fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The two signature schemes the gateway accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureScheme {
    /// `SignatureMethod=HMAC-SHA1`, `SignatureVersion=1.0`.
    V1,
    /// `ACS3-HMAC-SHA256`.
    V3,
}

/// Who signed a request that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCaller {
    pub access_key_id: String,
    pub scheme: SignatureScheme,
}

/// Checks the request's signature against `keys`.
///
/// An ACS3 `Authorization` header means V3 (even if a `Signature` parameter
/// is present too); otherwise a `Signature` parameter means V1; a request
/// with neither is `MissingSignature`, as the gateway answers it.
pub fn verify_signature(
    request: &SignedRequest<'_>,
    keys: &AccessKeys,
) -> Result<VerifiedCaller, ApiError> {
    match request.scheme() {
        Some(SignatureScheme::V3) => v3::verify(request, keys),
        Some(SignatureScheme::V1) => v1::verify(request, keys),
        None => Err(ApiError::MissingParameter { name: "Signature" }),
    }
}

/// Percent-encoding as both schemes canonicalise it (§5.3): RFC 3986
/// unreserved bytes stay, every other byte of the UTF-8 text becomes `%XX`
/// with uppercase hex. So a space is `%20` (never `+`), `*` is `%2A`, and
/// `~` stays.
fn percent_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

/// `name=value` pairs sorted by name then value (byte order), each side
/// percent-encoded, joined with `&`. Sorting by value too makes a repeated
/// name canonicalise the same whatever its arrival order.
fn canonical_pairs<'p>(pairs: impl Iterator<Item = (&'p str, &'p str)>) -> String {
    let mut pairs: Vec<(&str, &str)> = pairs.collect();
    pairs.sort_unstable();
    let mut out = String::new();
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&percent_encode(name));
        out.push('=');
        out.push_str(&percent_encode(value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_only_unreserved_bytes() {
        for (text, want) in [
            ("AZaz09-_.~", "AZaz09-_.~"),
            ("a b", "a%20b"),
            ("*'()!", "%2A%27%28%29%21"),
            ("/:+=&%", "%2F%3A%2B%3D%26%25"),
            ("é", "%C3%A9"),
            ("测", "%E6%B5%8B"),
            ("\n", "%0A"),
            ("", ""),
        ] {
            assert_eq!(percent_encode(text), want, "{text:?}");
        }
    }

    #[test]
    fn canonical_pairs_sort_by_name_then_value() {
        let pairs = [("b", "2"), ("a", "y z"), ("B", ""), ("a", "x")];
        assert_eq!(canonical_pairs(pairs.into_iter()), "B=&a=x&a=y%20z&b=2");
    }
}
