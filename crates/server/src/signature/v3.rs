//! Signature V3 (`ACS3-HMAC-SHA256`), §5.4: a canonical request over the
//! method, the query, the headers the client chose to sign and the body's
//! hash, hashed again and signed with the bare secret.

use axum::http::HeaderName;
use casim_model::ApiError;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{AccessKeys, SignatureScheme, SignedRequest, VerifiedCaller};

const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// The header that carries the body's hash, and which the canonical
/// request ends with.
const CONTENT_SHA256: &str = "x-acs-content-sha256";

pub(super) fn verify(
    request: &SignedRequest<'_>,
    keys: &AccessKeys,
) -> Result<VerifiedCaller, ApiError> {
    let authorization = request
        .authorization()
        .ok_or(ApiError::IncompleteSignature)?;
    let authorization = Authorization::parse(authorization)?;
    let signed_headers = authorization.signed_header_names()?;
    require_signed(request, &signed_headers)?;
    let claimed_payload_hash = request
        .header(CONTENT_SHA256)
        .ok_or(ApiError::IncompleteSignature)?
        .trim();
    if authorization.credential.is_empty() {
        return Err(ApiError::MissingParameter {
            name: "AccessKeyId",
        });
    }
    let secret = keys
        .secret(authorization.credential)
        .ok_or(ApiError::AccessKeyNotFound)?;

    // Our string to sign uses the hash of the body we received, so a client
    // whose header lies about the body sees the hash it should have sent.
    let payload_hash = hex::encode(Sha256::digest(request.body));
    let string_to_sign = string_to_sign(
        request,
        &signed_headers,
        authorization.signed_headers,
        &payload_hash,
    );
    if claimed_payload_hash != payload_hash {
        return Err(ApiError::SignatureDoesNotMatch { string_to_sign });
    }
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(string_to_sign.as_bytes());
    let matches = hex::decode(authorization.signature)
        .is_ok_and(|claimed| mac.verify_slice(&claimed).is_ok());
    if !matches {
        return Err(ApiError::SignatureDoesNotMatch { string_to_sign });
    }

    Ok(VerifiedCaller {
        access_key_id: authorization.credential.to_owned(),
        scheme: SignatureScheme::V3,
    })
}

/// `Authorization: ACS3-HMAC-SHA256 Credential=ID,SignedHeaders=a;b,Signature=hex`.
#[derive(Debug)]
struct Authorization<'a> {
    credential: &'a str,
    /// As the client wrote it; the canonical request repeats it verbatim.
    signed_headers: &'a str,
    signature: &'a str,
}

impl<'a> Authorization<'a> {
    fn parse(value: &'a str) -> Result<Authorization<'a>, ApiError> {
        let (algorithm, fields) = value
            .trim()
            .split_once(|c: char| c.is_ascii_whitespace())
            .ok_or(ApiError::IncompleteSignature)?;
        // ACS3-HMAC-SM3 and ACS3-RSA-SHA256 exist, but no ECS SDK uses them.
        if algorithm != ALGORITHM {
            return Err(ApiError::IncompleteSignature);
        }
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        for field in fields.split(',') {
            let (name, value) = field
                .trim()
                .split_once('=')
                .ok_or(ApiError::IncompleteSignature)?;
            let slot = match name {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed_headers,
                "Signature" => &mut signature,
                _ => return Err(ApiError::IncompleteSignature),
            };
            if slot.replace(value).is_some() {
                return Err(ApiError::IncompleteSignature);
            }
        }
        match (credential, signed_headers, signature) {
            (Some(credential), Some(signed_headers), Some(signature)) if !signature.is_empty() => {
                Ok(Authorization {
                    credential,
                    signed_headers,
                    signature,
                })
            }
            _ => Err(ApiError::IncompleteSignature),
        }
    }

    /// The signed header names, in the client's order (which is the order
    /// its canonical request used).
    fn signed_header_names(&self) -> Result<Vec<HeaderName>, ApiError> {
        if self.signed_headers.is_empty() {
            return Ok(Vec::new());
        }
        self.signed_headers
            .split(';')
            .map(|name| {
                HeaderName::from_bytes(name.as_bytes()).map_err(|_| ApiError::IncompleteSignature)
            })
            .collect()
    }
}

/// The V3 documentation makes clients sign `host`, `content-type` and every
/// `x-acs-*` header. Enforcing it keeps the headers this server acts on
/// (`x-acs-action`, `x-acs-version`, `x-acs-date`, the nonce) from being
/// swapped under a valid signature, and catches a hand-built client that
/// forgot one before the real gateway does.
fn require_signed(request: &SignedRequest<'_>, signed: &[HeaderName]) -> Result<(), ApiError> {
    let must_sign = |name: &HeaderName| {
        let name = name.as_str();
        name == "host" || name == "content-type" || name.starts_with("x-acs-")
    };
    let unsigned = request
        .headers
        .keys()
        .any(|name| must_sign(name) && !signed.contains(name));
    if unsigned || !signed.iter().any(|name| name == "host") {
        return Err(ApiError::IncompleteSignature);
    }
    Ok(())
}

/// `ACS3-HMAC-SHA256\n` + hex(SHA-256(CanonicalRequest)).
fn string_to_sign(
    request: &SignedRequest<'_>,
    signed: &[HeaderName],
    signed_headers_line: &str,
    payload_hash: &str,
) -> String {
    let canonical = canonical_request(request, signed, signed_headers_line, payload_hash);
    format!("{ALGORITHM}\n{}", hex::encode(Sha256::digest(&canonical)))
}

/// `METHOD\n/\nQuery\nHeaders\nSignedHeaders\nHashedPayload`, where Headers
/// already ends in `\n`. Built as bytes: header values need not be UTF-8.
fn canonical_request(
    request: &SignedRequest<'_>,
    signed: &[HeaderName],
    signed_headers_line: &str,
    payload_hash: &str,
) -> Vec<u8> {
    // The query alone, decoded as a form (`+` is a space) and re-encoded:
    // the SDKs disagree on how they escape it on the wire.
    let query: Vec<(String, String)> =
        form_urlencoded::parse(request.raw_query.unwrap_or_default().as_bytes())
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
    let query = super::canonical_pairs(query.iter().map(|(n, v)| (n.as_str(), v.as_str())));

    let mut out = Vec::new();
    out.extend_from_slice(request.method.as_bytes());
    // Every RPC call goes to `/`, the only path this server routes.
    out.extend_from_slice(b"\n/\n");
    out.extend_from_slice(query.as_bytes());
    out.push(b'\n');
    for name in signed {
        out.extend_from_slice(name.as_str().as_bytes());
        out.push(b':');
        // A repeated header signs as its values joined by commas, the
        // usual reading of repeated headers; the SDKs never send one.
        for (i, value) in request.headers.get_all(name).iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(value.as_bytes().trim_ascii());
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers_line.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_fields_must_all_be_there_once() {
        let good = "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host;x-acs-date,Signature=ab";
        let parsed = Authorization::parse(good).expect("well formed");
        assert_eq!(
            (parsed.credential, parsed.signed_headers, parsed.signature),
            ("id", "host;x-acs-date", "ab")
        );
        for bad in [
            "ACS3-HMAC-SHA256",
            "ACS3-HMAC-SM3 Credential=id,SignedHeaders=host,Signature=ab",
            "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host",
            "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=",
            "ACS3-HMAC-SHA256 Credential=id,Credential=id,SignedHeaders=host,Signature=ab",
            "ACS3-HMAC-SHA256 Credential=id,SignedHeaders=host,Signature=ab,Extra=1",
            "ACS3-HMAC-SHA256 Credential=id;SignedHeaders=host;Signature=ab",
        ] {
            assert_eq!(
                Authorization::parse(bad).map(|_| ()),
                Err(ApiError::IncompleteSignature),
                "{bad}"
            );
        }
    }
}
