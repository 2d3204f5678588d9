//! The flat name/value parameters of an RPC request, as they arrive in the
//! query string and a form body, with the typed readers the actions share.

use crate::api_error::ApiError;

/// Request parameters in arrival order. A name may repeat; readers take its
/// first value, so a later duplicate cannot override what was signed first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn new() -> Params {
        Params::default()
    }

    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.pairs.push((name.into(), value.into()));
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The first value of `name`, even when empty.
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, treating an empty value as absent, as the
    /// service does for optional filters such as `InvokeId=`.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.raw(name).filter(|v| !v.is_empty())
    }

    /// A parameter that must be present (it may be empty).
    pub fn required(&self, name: &'static str) -> Result<&str, ApiError> {
        self.raw(name).ok_or(ApiError::MissingParameter { name })
    }

    /// A boolean written `true`/`false` in any letter case (the Python SDKs
    /// send `True`/`False`).
    pub fn bool(&self, name: &'static str) -> Result<Option<bool>, ApiError> {
        match self.non_empty(name) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::InvalidParameter { name }),
        }
    }

    /// A decimal integer; `invalid` is the error for anything else.
    pub fn integer(&self, name: &str, invalid: ApiError) -> Result<Option<i64>, ApiError> {
        match self.non_empty(name) {
            None => Ok(None),
            Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| invalid),
        }
    }

    /// A repeated list `Name.1`, `Name.2`, ... in index order. Indexes need
    /// not be contiguous; entries with an empty value or a malformed index are
    /// ignored, and a value that repeats is kept once, at its first place.
    pub fn list(&self, name: &str) -> Vec<&str> {
        let mut indexed: Vec<(u64, usize, &str)> = self
            .pairs
            .iter()
            .enumerate()
            .filter_map(|(position, (n, v))| {
                let index = n
                    .strip_prefix(name)?
                    .strip_prefix('.')?
                    .parse::<u64>()
                    .ok()?;
                (!v.is_empty()).then_some((index, position, v.as_str()))
            })
            .collect();
        indexed.sort();
        // A set, not `Vec::contains`: a hostile request can carry tens of
        // thousands of entries, and the quadratic scan would stall the server.
        let mut seen = std::collections::HashSet::with_capacity(indexed.len());
        let mut values: Vec<&str> = Vec::with_capacity(indexed.len());
        for (_, _, value) in indexed {
            if seen.insert(value) {
                values.push(value);
            }
        }
        values
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Params {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Params {
        Params {
            pairs: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_follow_their_index_not_arrival() {
        let params: Params = [
            ("InstanceId.10", "i-c"),
            ("InstanceId.2", "i-b"),
            ("InstanceId.1", "i-a"),
            ("InstanceId.3", ""),
            ("InstanceId.x", "i-bad"),
            ("InstanceIdX.1", "i-other"),
            ("InstanceId.4", "i-a"),
        ]
        .into_iter()
        .collect();
        assert_eq!(params.list("InstanceId"), ["i-a", "i-b", "i-c"]);
    }

    #[test]
    fn booleans_ignore_letter_case() {
        for (text, want) in [
            ("True", Some(true)),
            ("false", Some(false)),
            ("TRUE", Some(true)),
            ("", None),
        ] {
            let params: Params = [("Overwrite", text)].into_iter().collect();
            assert_eq!(params.bool("Overwrite"), Ok(want), "{text}");
        }
        let params: Params = [("Overwrite", "yes")].into_iter().collect();
        assert_eq!(
            params.bool("Overwrite"),
            Err(ApiError::InvalidParameter { name: "Overwrite" })
        );
    }

    #[test]
    fn first_value_wins() {
        let params: Params = [("Name", "a"), ("Name", "b")].into_iter().collect();
        assert_eq!(params.raw("Name"), Some("a"));
    }
}
