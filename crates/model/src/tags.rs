//! Tags: `Tag.N.Key`/`Tag.N.Value` on requests, `Tags.Tag[].TagKey`/`TagValue`
//! on responses, and the rules both operations apply to them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api_error::ApiError;
use crate::params::Params;

/// At most this many tags on one request.
pub const MAX_TAGS: usize = 20;
const MAX_KEY_CHARS: usize = 64;
const MAX_VALUE_CHARS: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Reads `Tag.N.Key`/`Tag.N.Value` in index order and checks them.
pub fn from_params(params: &Params) -> Result<Vec<Tag>, ApiError> {
    let mut by_index: BTreeMap<u64, (Option<&str>, Option<&str>)> = BTreeMap::new();
    for (name, value) in params.pairs() {
        let Some(rest) = name.strip_prefix("Tag.") else {
            continue;
        };
        let Some((index, field)) = rest.split_once('.') else {
            continue;
        };
        let Ok(index) = index.parse::<u64>() else {
            continue;
        };
        let entry = by_index.entry(index).or_default();
        match field {
            "Key" if entry.0.is_none() => entry.0 = Some(value),
            "Value" if entry.1.is_none() => entry.1 = Some(value),
            _ => {}
        }
        if by_index.len() > MAX_TAGS {
            return Err(ApiError::TooManyTags);
        }
    }
    if by_index
        .keys()
        .any(|index| *index == 0 || *index > MAX_TAGS as u64)
    {
        return Err(ApiError::TooManyTags);
    }

    let mut tags: Vec<Tag> = Vec::with_capacity(by_index.len());
    for (key, value) in by_index.into_values() {
        let key = match key {
            Some(key) if !key.is_empty() => key,
            _ => return Err(ApiError::MissingTagKey),
        };
        let value = value.unwrap_or("");
        if !key_is_valid(key) {
            return Err(ApiError::InvalidTagKey);
        }
        if !value_is_valid(value) {
            return Err(ApiError::InvalidTagValue);
        }
        if tags.iter().any(|tag| tag.key == key) {
            return Err(ApiError::DuplicateTagKey);
        }
        tags.push(Tag {
            key: key.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(tags)
}

fn has_url(text: &str) -> bool {
    text.contains("http://") || text.contains("https://")
}

fn key_is_valid(key: &str) -> bool {
    key.chars().count() <= MAX_KEY_CHARS
        && !key.starts_with("aliyun")
        && !key.starts_with("acs:")
        && !has_url(key)
}

fn value_is_valid(value: &str) -> bool {
    value.chars().count() <= MAX_VALUE_CHARS && !has_url(value)
}

/// Whether `tags` carry every tag in `filter` (same key and value).
pub fn matches(tags: &[Tag], filter: &[Tag]) -> bool {
    filter.iter().all(|wanted| tags.contains(wanted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pairs: &[(&str, &str)], want: Result<Vec<(&str, &str)>, ApiError>) {
        let params: Params = pairs.iter().copied().collect();
        let got = from_params(&params);
        let want = want.map(|tags| {
            tags.into_iter()
                .map(|(k, v)| Tag {
                    key: k.to_owned(),
                    value: v.to_owned(),
                })
                .collect()
        });
        assert_eq!(got, want, "{pairs:?}");
    }

    #[test]
    fn tag_rules() {
        check(&[], Ok(vec![]));
        check(
            &[("Tag.2.Key", "b"), ("Tag.1.Key", "a"), ("Tag.1.Value", "1")],
            Ok(vec![("a", "1"), ("b", "")]),
        );
        check(&[("Tag.1.Value", "v")], Err(ApiError::MissingTagKey));
        check(
            &[("Tag.1.Key", ""), ("Tag.1.Value", "v")],
            Err(ApiError::MissingTagKey),
        );
        check(
            &[("Tag.1.Key", "a"), ("Tag.2.Key", "a")],
            Err(ApiError::DuplicateTagKey),
        );
        check(&[("Tag.1.Key", "aliyun-x")], Err(ApiError::InvalidTagKey));
        check(&[("Tag.1.Key", "acs:x")], Err(ApiError::InvalidTagKey));
        check(
            &[("Tag.1.Key", "see https://x")],
            Err(ApiError::InvalidTagKey),
        );
        check(
            &[("Tag.1.Key", &"k".repeat(65))],
            Err(ApiError::InvalidTagKey),
        );
        check(
            &[("Tag.1.Key", "k"), ("Tag.1.Value", &"v".repeat(129))],
            Err(ApiError::InvalidTagValue),
        );
        check(
            &[("Tag.1.Key", "k"), ("Tag.1.Value", "http://x")],
            Err(ApiError::InvalidTagValue),
        );
        check(&[("Tag.21.Key", "k")], Err(ApiError::TooManyTags));
        let many: Vec<(String, String)> = (1..=21)
            .map(|i| (format!("Tag.{i}.Key"), format!("k{i}")))
            .collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        check(&many, Err(ApiError::TooManyTags));
    }
}
