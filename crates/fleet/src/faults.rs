//! Injected faults: rules that make a chosen `ErrorCode` happen on chosen
//! instances and files, or make chosen API calls fail, at a seeded rate or
//! for the first N matches.
//!
//! Whether a rule fires is drawn from a stream keyed by the rule and the
//! task (or the action's call), never from a shared one, so adding a rule,
//! an instance or a request elsewhere cannot change another outcome.

use std::collections::BTreeMap;

use casim_model::{ErrorCode, InstanceId};
use rand_core::RngCore;
use serde::{Deserialize, Serialize};

use crate::instance::Instance;
use crate::rng;

/// A per-instance fault: tasks in scope end with `error_code`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// A name to list and remove it by; given one if left out.
    #[serde(default)]
    pub id: String,
    pub error_code: ErrorCode,
    /// Probability that a task in scope fails, 0 to 1 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Only the first N tasks in scope on each instance can fail; later
    /// ones succeed ("fail twice, then work").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<u64>,
    #[serde(default)]
    pub scope: FaultScope,
}

/// What a rule applies to; every given field must match (AND), and an
/// empty field matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultScope {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instances: Vec<InstanceId>,
    /// Instances carrying all of these tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instance_groups: Vec<String>,
    /// File names; `*` matches any run of characters (`*.conf`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

impl FaultScope {
    pub fn covers(&self, instance: &Instance, file_name: &str) -> bool {
        let spec = &instance.spec;
        (self.instances.is_empty() || self.instances.contains(&spec.id))
            && self.tags.iter().all(|(k, v)| spec.tags.get(k) == Some(v))
            && (self.instance_groups.is_empty()
                || spec
                    .instance_group
                    .as_ref()
                    .is_some_and(|g| self.instance_groups.contains(g)))
            && (self.names.is_empty() || self.names.iter().any(|p| glob_matches(p, file_name)))
    }
}

/// A fault of the API itself, before any simulation happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiFaultRule {
    #[serde(default)]
    pub id: String,
    /// Actions it applies to (`SendFile`, ...); empty means every action.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<String>,
    pub kind: ApiFaultKind,
    /// Probability per call, 0 to 1 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Fires on at most this many calls, then never again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// What an API fault does to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", deny_unknown_fields)]
pub enum ApiFaultKind {
    /// `Throttling.User`, with `x-acs-retry-after` so Tea SDKs raise their
    /// throttling error.
    Throttle,
    /// `InternalError.Dispatch`, HTTP 500.
    InternalError,
    /// The call works, `millis` late.
    Latency { millis: u64 },
    /// The connection closes without an answer.
    Drop,
}

/// The longest injected latency: ten minutes, past any SDK's read timeout.
pub const MAX_LATENCY_MS: u64 = 600_000;

/// Whether a rule with `rate` fires, from the stream keyed by `parts`.
pub fn fires(seed: u64, rate: Option<f64>, parts: &[&[u8]]) -> bool {
    let rate = rate.unwrap_or(1.0);
    if rate >= 1.0 {
        return true;
    }
    if rate.is_nan() || rate <= 0.0 {
        return false;
    }
    let word = rng::stream(seed, parts).next_u64();
    // The top 53 bits as a fraction in [0, 1): exact in an f64.
    ((word >> 11) as f64 / (1u64 << 53) as f64) < rate
}

/// `*` matches any run of characters; everything else matches itself.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(at) => rest = &rest[at + middle.len()..],
            None => return false,
        }
    }
    true
}

/// Checks a rate given by a person.
pub fn check_rate(rate: Option<f64>) -> Result<(), String> {
    match rate {
        Some(rate) if !(0.0..=1.0).contains(&rate) => {
            Err(format!("rate {rate} is not between 0 and 1"))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        for (pattern, text, want) in [
            ("*.conf", "nginx.conf", true),
            ("*.conf", "nginx.conf.bak", false),
            ("nginx*", "nginx.conf", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "acb", false),
            ("exact", "exact", true),
            ("*", "", true),
            ("ab*ba", "aba", false),
        ] {
            assert_eq!(glob_matches(pattern, text), want, "{pattern} ~ {text}");
        }
    }

    #[test]
    fn rates_are_seeded_and_roughly_right() {
        let hits = (0u64..10_000)
            .filter(|i| fires(9, Some(0.3), &[b"r", &i.to_le_bytes()]))
            .count();
        assert!((2_700..3_300).contains(&hits), "{hits}");
        let again = (0u64..10_000)
            .filter(|i| fires(9, Some(0.3), &[b"r", &i.to_le_bytes()]))
            .count();
        assert_eq!(hits, again);
        assert!(fires(9, None, &[b"x"]));
        assert!(!fires(9, Some(0.0), &[b"x"]));
    }
}
