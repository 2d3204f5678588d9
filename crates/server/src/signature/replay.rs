//! Replay protection, kept apart from the signature itself: a request must
//! be stamped within 15 minutes of the server's wall clock, and its nonce
//! must not have been seen while such a request could still be fresh.
//!
//! These compare against the *wall* clock: a client stamps requests with its
//! real time, whatever virtual time the simulation shows.

use std::collections::{HashMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use casim_model::{ApiError, Timestamp};
use sha2::{Digest, Sha256};

use super::{SignatureScheme, SignedRequest};

/// How far a request's time may be from ours, either way (§5.2).
pub const FRESHNESS_TOLERANCE_MILLIS: u64 = 15 * 60 * 1000;

/// How long a nonce is remembered. A request stamped up to the tolerance
/// ahead of our clock stays fresh until twice the tolerance after it
/// arrived, and a replay must be caught for all of that time.
const NONCE_TTL_MILLIS: u64 = 2 * FRESHNESS_TOLERANCE_MILLIS;

/// The wall clock as a [`Timestamp`].
pub fn wall_now() -> Timestamp {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    Timestamp::from_millis(i64::try_from(millis).unwrap_or(i64::MAX))
}

/// Checks that the request's own time (`Timestamp` for V1, `x-acs-date`
/// for V3) is within [`FRESHNESS_TOLERANCE_MILLIS`] of `now`, the wall
/// clock. A time that is absent or unreadable is `IllegalTimestamp`.
pub fn check_freshness(request: &SignedRequest<'_>, now: Timestamp) -> Result<(), ApiError> {
    let text = match request.scheme() {
        Some(SignatureScheme::V3) => request.header("x-acs-date"),
        Some(SignatureScheme::V1) | None => request.params.raw("Timestamp"),
    };
    let sent = text
        .and_then(parse_request_time)
        .ok_or(ApiError::IllegalTimestamp)?;
    let skew = now.as_millis().abs_diff(sent.as_millis());
    if skew > FRESHNESS_TOLERANCE_MILLIS {
        return Err(ApiError::TimestampExpired);
    }
    Ok(())
}

/// `YYYY-MM-DDThh:mm:ssZ`, also with a fraction of a second
/// (`…:10.973Z`), which some hand-written clients send and the gateway
/// takes.
fn parse_request_time(text: &str) -> Option<Timestamp> {
    match text.split_once('.') {
        None => Timestamp::parse(text).ok(),
        Some((whole_seconds, fraction)) => {
            let digits = fraction.strip_suffix('Z')?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            Timestamp::parse(&format!("{whole_seconds}Z")).ok()
        }
    }
}

/// The request's nonce: `SignatureNonce` for V1, `x-acs-signature-nonce`
/// for V3. An absent one is `MissingSignatureNonce`; an empty one is a
/// nonce like any other (the gateway answers a second empty nonce with
/// `SignatureNonceUsed`).
pub fn signature_nonce<'a>(request: &SignedRequest<'a>) -> Result<&'a str, ApiError> {
    let nonce = match request.scheme() {
        Some(SignatureScheme::V3) => request.header("x-acs-signature-nonce"),
        Some(SignatureScheme::V1) | None => request.params.raw("SignatureNonce"),
    };
    nonce.ok_or(ApiError::MissingParameter {
        name: "SignatureNonce",
    })
}

/// Nonces seen recently, in bounded memory.
///
/// Nonces are kept as SHA-256 digests, so a client sending huge nonces
/// cannot grow the cache beyond `capacity` small entries. When full, the
/// oldest nonce is forgotten first: a replay of it would then pass, which
/// a mock can afford and an unbounded cache could not.
#[derive(Debug)]
pub struct NonceCache {
    capacity: usize,
    /// Digest → when it may be used again.
    expiries: HashMap<[u8; 32], Timestamp>,
    /// Every entry of `expiries`, oldest first. An entry whose digest has
    /// since been remembered again is stale and skipped when dropped.
    order: VecDeque<([u8; 32], Timestamp)>,
}

impl NonceCache {
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A cache holding at most `capacity` nonces (at least one).
    pub fn new(capacity: usize) -> NonceCache {
        NonceCache {
            capacity: capacity.max(1),
            expiries: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// `SignatureNonceUsed` if `nonce` was remembered in the last 30
    /// minutes of `now` (the wall clock); otherwise remembers it.
    ///
    /// Call it only for requests whose signature verified, so that a forged
    /// request cannot burn a nonce a real client is about to use.
    pub fn check_and_remember(&mut self, nonce: &str, now: Timestamp) -> Result<(), ApiError> {
        self.forget_expired(now);
        let digest: [u8; 32] = Sha256::digest(nonce.as_bytes()).into();
        if self.expiries.get(&digest).is_some_and(|&until| until > now) {
            return Err(ApiError::SignatureNonceUsed);
        }
        while self.order.len() >= self.capacity {
            self.drop_oldest();
        }
        let until = now.plus_millis(NONCE_TTL_MILLIS);
        self.expiries.insert(digest, until);
        self.order.push_back((digest, until));
        Ok(())
    }

    /// How many nonces are remembered.
    pub fn len(&self) -> usize {
        self.expiries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.expiries.is_empty()
    }

    fn forget_expired(&mut self, now: Timestamp) {
        // Entries go in with `now + TTL`, so they expire in order unless the
        // wall clock stepped back; then a few linger until the ones before
        // them expire, still within `capacity`.
        while self.order.front().is_some_and(|&(_, until)| until <= now) {
            self.drop_oldest();
        }
    }

    fn drop_oldest(&mut self) {
        if let Some((digest, until)) = self.order.pop_front() {
            if self.expiries.get(&digest) == Some(&until) {
                self.expiries.remove(&digest);
            }
        }
    }
}

impl Default for NonceCache {
    fn default() -> NonceCache {
        NonceCache::new(NonceCache::DEFAULT_CAPACITY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).expect("valid time")
    }

    #[test]
    fn request_times_may_carry_a_fraction_of_a_second() {
        for (text, want) in [
            ("2026-12-04T15:35:01Z", Some("2026-12-04T15:35:01Z")),
            ("2026-12-04T15:35:01.973Z", Some("2026-12-04T15:35:01Z")),
            ("2026-12-04T15:35:01.Z", None),
            ("2026-12-04T15:35:01.9x3Z", None),
            ("2026-12-04T15:35:01.973", None),
            ("2026-12-04 15:35:01", None),
            ("", None),
        ] {
            assert_eq!(parse_request_time(text), want.map(at), "{text}");
        }
    }

    #[test]
    fn a_nonce_is_refused_until_it_expires() {
        let mut cache = NonceCache::default();
        let t0 = at("2026-12-04T15:35:01Z");
        assert_eq!(cache.check_and_remember("n", t0), Ok(()));
        assert_eq!(
            cache.check_and_remember("n", t0),
            Err(ApiError::SignatureNonceUsed)
        );
        let almost = t0.plus_millis(NONCE_TTL_MILLIS - 1);
        assert_eq!(
            cache.check_and_remember("n", almost),
            Err(ApiError::SignatureNonceUsed)
        );
        let later = t0.plus_millis(NONCE_TTL_MILLIS);
        assert_eq!(cache.check_and_remember("n", later), Ok(()));
        assert_eq!(cache.check_and_remember("", later), Ok(()));
        assert_eq!(
            cache.check_and_remember("", later),
            Err(ApiError::SignatureNonceUsed)
        );
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let mut cache = NonceCache::new(100);
        let t0 = at("2026-12-04T15:35:01Z");
        for i in 0..1_000u64 {
            let now = t0.plus_millis(i);
            assert_eq!(cache.check_and_remember(&format!("n{i}"), now), Ok(()));
            assert!(cache.len() <= 100 && cache.order.len() <= 100);
        }
        // The newest are still remembered, the oldest were let go.
        let now = t0.plus_millis(1_000);
        assert_eq!(
            cache.check_and_remember("n999", now),
            Err(ApiError::SignatureNonceUsed)
        );
        assert_eq!(cache.check_and_remember("n0", now), Ok(()));
        // Time passing empties it.
        let much_later = now.plus_millis(NONCE_TTL_MILLIS + 1);
        assert_eq!(cache.check_and_remember("fresh", much_later), Ok(()));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn huge_nonces_cost_no_more_than_small_ones() {
        let mut cache = NonceCache::new(10);
        let t0 = at("2026-12-04T15:35:01Z");
        let huge = "x".repeat(1 << 20);
        assert_eq!(cache.check_and_remember(&huge, t0), Ok(()));
        assert_eq!(
            cache.check_and_remember(&huge, t0),
            Err(ApiError::SignatureNonceUsed)
        );
    }
}
