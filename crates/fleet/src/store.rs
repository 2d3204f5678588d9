//! The record store: every `SendFile` the service remembers, with the
//! indexes DescribeSendFileResults filters by, in the order it lists them
//! (newest `CreationTime` first, ties by `InvokeId` descending).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use casim_model::{
    DescribeSendFileResultsRequest, InstanceId, InvocationRecord, InvokeId, Paging, RegionId,
    Timestamp,
};

/// Where a record sits in listing order within its region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct OrderKey {
    region: RegionId,
    newest_first: Reverse<Timestamp>,
    id_descending: Reverse<InvokeId>,
}

impl OrderKey {
    fn of(record: &InvocationRecord) -> OrderKey {
        OrderKey {
            region: record.region_id.clone(),
            newest_first: Reverse(record.creation_time),
            id_descending: Reverse(record.invoke_id.clone()),
        }
    }
}

/// Records and their indexes. Every index holds `OrderKey`s, so any
/// candidate set is already in listing order.
#[derive(Debug, Clone, Default)]
pub struct RecordStore {
    records: BTreeMap<InvokeId, InvocationRecord>,
    order: BTreeSet<OrderKey>,
    by_instance: BTreeMap<InstanceId, BTreeSet<OrderKey>>,
    by_name: BTreeMap<(RegionId, String), BTreeSet<OrderKey>>,
    /// Every record by age, oldest first, across regions, for retention.
    by_age: BTreeSet<(Timestamp, InvokeId)>,
}

/// How long records are kept and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Retention {
    pub max_age_ms: u64,
    pub max_records: usize,
}

impl Default for Retention {
    /// The seed documentation's figures: two weeks, 100,000 records.
    fn default() -> Retention {
        Retention {
            max_age_ms: 14 * 24 * 3600 * 1000,
            max_records: 100_000,
        }
    }
}

/// One page of matching records.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    pub records: Vec<&'a InvocationRecord>,
    /// How many records matched, over all pages; 0 in token paging, where
    /// the service does not count.
    pub total_count: u64,
    /// In token paging: the token for the next page, empty on the last.
    pub next_token: Option<String>,
}

/// A `NextToken` we did not hand out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadToken;

impl RecordStore {
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn contains(&self, id: &InvokeId) -> bool {
        self.records.contains_key(id)
    }

    pub fn get(&self, id: &InvokeId) -> Option<&InvocationRecord> {
        self.records.get(id)
    }

    /// The record for `id`, to update an instance's result. Nothing that
    /// the indexes use (region, time, name, instances) may change.
    pub fn get_mut(&mut self, id: &InvokeId) -> Option<&mut InvocationRecord> {
        self.records.get_mut(id)
    }

    pub fn insert(&mut self, record: InvocationRecord) {
        let key = OrderKey::of(&record);
        for instance in &record.instances {
            self.by_instance
                .entry(instance.instance_id.clone())
                .or_default()
                .insert(key.clone());
        }
        self.by_name
            .entry((record.region_id.clone(), record.file.name.clone()))
            .or_default()
            .insert(key.clone());
        self.order.insert(key);
        self.by_age
            .insert((record.creation_time, record.invoke_id.clone()));
        self.records.insert(record.invoke_id.clone(), record);
    }

    /// Drops records older than the window at `now`, then the oldest until
    /// at most the cap remain, and hands back what was dropped.
    pub fn expire(&mut self, now: Timestamp, retention: Retention) -> Vec<InvocationRecord> {
        let oldest_kept = now
            .as_millis()
            .saturating_sub(i64::try_from(retention.max_age_ms).unwrap_or(i64::MAX));
        let mut dropped = Vec::new();
        while let Some((created, id)) = self.by_age.first().cloned() {
            let too_old = created.as_millis() < oldest_kept;
            if !too_old && self.records.len() <= retention.max_records {
                break;
            }
            self.by_age.pop_first();
            if let Some(record) = self.remove(&id) {
                dropped.push(record);
            }
        }
        dropped
    }

    fn remove(&mut self, id: &InvokeId) -> Option<InvocationRecord> {
        let record = self.records.remove(id)?;
        let key = OrderKey::of(&record);
        self.order.remove(&key);
        for instance in &record.instances {
            if let Some(keys) = self.by_instance.get_mut(&instance.instance_id) {
                keys.remove(&key);
                if keys.is_empty() {
                    self.by_instance.remove(&instance.instance_id);
                }
            }
        }
        let name_key = (record.region_id.clone(), record.file.name.clone());
        if let Some(keys) = self.by_name.get_mut(&name_key) {
            keys.remove(&key);
            if keys.is_empty() {
                self.by_name.remove(&name_key);
            }
        }
        Some(record)
    }

    /// Every record in listing order, for export.
    pub fn iter(&self) -> impl Iterator<Item = &InvocationRecord> {
        self.order
            .iter()
            .filter_map(|key| self.records.get(&key.id_descending.0))
    }

    /// The records a DescribeSendFileResults asks for.
    pub fn query(&self, request: &DescribeSendFileResultsRequest) -> Result<Page<'_>, BadToken> {
        let region = &request.region_id;
        let matches = |record: &&InvocationRecord| {
            &record.region_id == region
                && request
                    .invoke_id
                    .as_ref()
                    .is_none_or(|id| &record.invoke_id == id)
                && request
                    .name
                    .as_ref()
                    .is_none_or(|name| &record.file.name == name)
                && request
                    .instance_id
                    .as_ref()
                    .is_none_or(|id| record.instances.iter().any(|i| &i.instance_id == id))
                && request.wants_status(record.status())
                && request
                    .resource_group_id
                    .as_ref()
                    .is_none_or(|group| record.resource_group_id.as_ref() == Some(group))
                && casim_model::tags::matches(&record.tags, &request.tags)
        };

        // In token paging, the page starts right after the record the token
        // names; only tokens we handed out count: that record must still be
        // here, in this region, created when the token says.
        let cursor = match &request.paging {
            Paging::Token {
                next_token: Some(token),
                ..
            } => {
                let (time, id) = decode_token(token).ok_or(BadToken)?;
                let record = self
                    .records
                    .get(&id)
                    .filter(|record| record.creation_time == time && &record.region_id == region)
                    .ok_or(BadToken)?;
                Some(OrderKey::of(record))
            }
            _ => None,
        };
        let region_start = OrderKey {
            region: region.clone(),
            newest_first: Reverse(Timestamp::MAX),
            id_descending: Reverse(InvokeId::from("\u{10FFFF}")),
        };
        let lower = match &cursor {
            Some(key) => Bound::Excluded(key),
            None => Bound::Unbounded,
        };

        // Start from the narrowest index the filters allow, at the cursor;
        // every index is in listing order, so nothing before it is read.
        let candidates: Box<dyn Iterator<Item = &OrderKey> + '_> =
            if let Some(id) = &request.invoke_id {
                let key = self.records.get(id).map(OrderKey::of);
                Box::new(
                    key.into_iter()
                        .filter(move |key| cursor.as_ref().is_none_or(|c| key > c))
                        .filter_map(move |key| self.order.get(&key)),
                )
            } else if let Some(instance) = &request.instance_id {
                match self.by_instance.get(instance) {
                    Some(keys) => Box::new(keys.range((lower, Bound::Unbounded))),
                    None => Box::new(std::iter::empty()),
                }
            } else if let Some(name) = &request.name {
                match self.by_name.get(&(region.clone(), name.clone())) {
                    Some(keys) => Box::new(keys.range((lower, Bound::Unbounded))),
                    None => Box::new(std::iter::empty()),
                }
            } else {
                let from = match lower {
                    Bound::Unbounded => Bound::Included(&region_start),
                    bound => bound,
                };
                Box::new(
                    self.order
                        .range((from, Bound::Unbounded))
                        .take_while(move |key| &key.region == region),
                )
            };
        let mut matching = candidates
            .filter_map(|key| self.records.get(&key.id_descending.0))
            .filter(matches);

        match &request.paging {
            Paging::Pages { number, size } => {
                // FIXME: counting and skipping walk every match, so a deep page
                // or TotalCount over a large unfiltered store costs O(matches).
                // An order-statistics index would make both O(log n).
                let offset = number.saturating_sub(1).saturating_mul(*size);
                let mut total_count = 0u64;
                let mut records = Vec::new();
                for record in matching.by_ref() {
                    if total_count >= offset && (records.len() as u64) < *size {
                        records.push(record);
                    }
                    total_count += 1;
                }
                Ok(Page {
                    records,
                    total_count,
                    next_token: None,
                })
            }
            Paging::Token { max_results, .. } => {
                let limit = usize::try_from(*max_results).unwrap_or(usize::MAX);
                let records: Vec<&InvocationRecord> = matching.by_ref().take(limit).collect();
                let more = matching.next().is_some();
                let next_token = match (more, records.last()) {
                    (true, Some(last)) => encode_token(last),
                    _ => String::new(),
                };
                Ok(Page {
                    records,
                    total_count: 0,
                    next_token: Some(next_token),
                })
            }
        }
    }
}

/// A `NextToken` naming the last record of a page: its creation time and
/// id, so the next page resumes after it even if records were added since.
fn encode_token(record: &InvocationRecord) -> String {
    let text = format!("{}:{}", record.creation_time.as_millis(), record.invoke_id);
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode_token(token: &str) -> Option<(Timestamp, InvokeId)> {
    if token.len() % 2 != 0 || token.len() > 512 {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect();
    let text = String::from_utf8(bytes?).ok()?;
    let (millis, id) = text.split_once(':')?;
    let millis = millis.parse::<i64>().ok()?;
    (!id.is_empty()).then(|| (Timestamp::from_millis(millis), InvokeId::from(id)))
}
