//! Signature V1 (`SignatureMethod=HMAC-SHA1`), §5.3: every parameter but
//! `Signature`, query and form body alike, sorted and encoded, then
//! `METHOD&%2F&pct(canonical)` signed with `secret&`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use casim_model::ApiError;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::{AccessKeys, SignatureScheme, SignedRequest, VerifiedCaller};

pub(super) fn verify(
    request: &SignedRequest<'_>,
    keys: &AccessKeys,
) -> Result<VerifiedCaller, ApiError> {
    let params = request.params;
    let signature = params
        .raw("Signature")
        .ok_or(ApiError::MissingParameter { name: "Signature" })?;
    let access_key_id = params
        .non_empty("AccessKeyId")
        .ok_or(ApiError::MissingParameter {
            name: "AccessKeyId",
        })?;
    match params.raw("SignatureMethod") {
        None => {
            return Err(ApiError::MissingParameter {
                name: "SignatureMethod",
            });
        }
        Some("HMAC-SHA1") => {}
        // The gateway knows other methods for other products; none of the
        // SDKs that call ECS use them, so a mock that accepted them would
        // hide a misconfigured client.
        Some(_) => return Err(ApiError::IncompleteSignature),
    }
    match params.raw("SignatureVersion") {
        None => {
            return Err(ApiError::MissingParameter {
                name: "SignatureVersion",
            });
        }
        Some("1.0") => {}
        Some(_) => return Err(ApiError::IncompleteSignature),
    }
    let secret = keys
        .secret(access_key_id)
        .ok_or(ApiError::AccessKeyNotFound)?;

    let string_to_sign = string_to_sign(request);
    let mut mac = hmac_sha1(secret);
    mac.update(string_to_sign.as_bytes());

    // A signature that is not even Base64 cannot match; say so the same way
    // as for a wrong one, so the caller sees our string to sign.
    let matches = BASE64
        .decode(signature)
        .is_ok_and(|claimed| mac.verify_slice(&claimed).is_ok());
    if !matches {
        return Err(ApiError::SignatureDoesNotMatch { string_to_sign });
    }
    Ok(VerifiedCaller {
        access_key_id: access_key_id.to_owned(),
        scheme: SignatureScheme::V1,
    })
}

/// `METHOD&%2F&pct(canonical)`, where canonical covers every parameter but
/// `Signature`, empty values included (classic Python signs `SignatureType=`).
fn string_to_sign(request: &SignedRequest<'_>) -> String {
    let signed = request
        .params
        .pairs()
        .iter()
        .filter(|(name, _)| name != "Signature")
        .map(|(name, value)| (name.as_str(), value.as_str()));
    let canonical = super::canonical_pairs(signed);
    format!(
        "{}&%2F&{}",
        request.method,
        super::percent_encode(&canonical)
    )
}

fn hmac_sha1(secret: &str) -> Hmac<Sha1> {
    // V1 keys the HMAC with the secret plus `&` (an empty token secret, a
    // leftover of OAuth 1.0).
    let key = format!("{secret}&");
    <Hmac<Sha1> as Mac>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length")
}
