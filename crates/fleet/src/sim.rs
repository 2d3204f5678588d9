//! The discrete-event simulation: a fleet, its records, and the queue of
//! what happens next, all moved by a clock the caller controls.
//!
//! A task on an instance lives through three events: *dispatch* after a
//! seeded delay (the service judges whether the agent can be reached),
//! *finish* after a seeded write time (the agent runs its checks and writes
//! the file), and a *deadline* at creation + `Timeout` that ends anything
//! still unfinished with `DeliveryTimeout`.

use std::collections::{BTreeMap, BTreeSet};

use casim_model::{
    ApiError, DescribeCloudAssistantStatusRequest, DescribeSendFileResultsRequest, ErrorCode,
    InstanceId, InstanceResult, InvocationRecord, InvokeId, Paging, RegionId, RequestId,
    SendFileRequest, Timestamp,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::agent;
use crate::change::FleetChange;
use crate::error::FleetError;
use crate::faults::{self, ApiFaultKind, ApiFaultRule, FaultRule};
use crate::fs::{FileData, Node};
use crate::instance::{AgentReport, Instance, parent_of, parse_version};
use crate::log::{DecisionLog, LogEntry};
use crate::rng;
use crate::spec::{AgentState, Delay, FleetSpec, InstanceState, OsType, SCHEMA_VERSION, Timing};
use crate::store::{Page, RecordStore, Retention};

/// The actions whose calls are counted for `RequestId`s; anything else is
/// counted under "Other" so that junk action names cannot grow the map.
const COUNTED_ACTIONS: [&str; 3] = [
    "SendFile",
    "DescribeSendFileResults",
    "DescribeCloudAssistantStatus",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum EventKind {
    /// Hand the task to the agent; on success it writes for `write_ms`.
    Dispatch {
        write_ms: u64,
    },
    Finish,
    Deadline,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Event {
    /// A step in one instance's task. `injected` is the code a fault rule
    /// chose for the task when it was created.
    Task {
        invoke_id: InvokeId,
        instance_id: InstanceId,
        kind: EventKind,
        injected: Option<ErrorCode>,
    },
    /// A scripted change to the fleet.
    Change(FleetChange),
}

/// Queue order: time, then rank (a task that finishes at the very instant
/// of its deadline finished in time, so deadlines rank last), then the
/// order events were scheduled in.
type EventKey = (Timestamp, u8, u64);

/// Ids the next calls take instead of generated ones, so a scenario can
/// reproduce a documented sample exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinnedIds {
    pub invoke_id: Option<InvokeId>,
    pub request_id: Option<RequestId>,
}

/// The whole simulation as plain data: what `export` writes and `import`
/// reads back, so a restart or a saved bug report loses nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimState {
    pub schema_version: u32,
    seed: u64,
    start: Timestamp,
    now: Timestamp,
    spec: FleetSpec,
    instances: Vec<Instance>,
    records: Vec<InvocationRecord>,
    events: Vec<(EventKey, Event)>,
    next_event: u64,
    calls: BTreeMap<String, u64>,
    invocations_created: u64,
    retention: Retention,
    client_tokens: BTreeMap<String, InvokeId>,
    faults: Vec<FaultRule>,
    api_faults: Vec<ApiFaultRule>,
    fault_hits: Vec<(String, InstanceId, u64)>,
    api_fault_calls: BTreeMap<String, (u64, u64)>,
    pinned: PinnedIds,
    log: DecisionLog,
}

/// A fleet in virtual time with everything sent to it.
#[derive(Debug, Clone)]
pub struct Simulation {
    seed: u64,
    start: Timestamp,
    spec: FleetSpec,
    now: Timestamp,
    instances: BTreeMap<InstanceId, Instance>,
    regions: BTreeSet<RegionId>,
    store: RecordStore,
    events: BTreeMap<EventKey, Event>,
    next_event: u64,
    calls: BTreeMap<String, u64>,
    invocations_created: u64,
    retention: Retention,
    /// `ClientToken` → the `InvokeId` its first SendFile created.
    client_tokens: BTreeMap<String, InvokeId>,
    faults: Vec<FaultRule>,
    api_faults: Vec<ApiFaultRule>,
    /// Tasks each rule has seen per instance, for "fail the first N".
    fault_hits: BTreeMap<(String, InstanceId), u64>,
    /// Calls each API rule has seen and how many it failed.
    api_fault_calls: BTreeMap<String, (u64, u64)>,
    pinned: PinnedIds,
    log: DecisionLog,
}

impl Simulation {
    /// A fleet as `spec` describes it, at `start`, with nothing sent yet.
    pub fn new(spec: FleetSpec, seed: u64, start: Timestamp) -> Result<Simulation, FleetError> {
        crate::instance::check_timing(&spec.timing).map_err(FleetError::InvalidFleet)?;
        for (group, timing) in &spec.instance_groups {
            crate::instance::check_timing(timing).map_err(|reason| {
                FleetError::InvalidFleet(format!("instance group {group}: {reason}"))
            })?;
        }
        let mut instances = BTreeMap::new();
        for instance_spec in &spec.instances {
            let instance = Instance::from_spec(instance_spec)?;
            if instances
                .insert(instance_spec.id.clone(), instance)
                .is_some()
            {
                return Err(FleetError::DuplicateInstance {
                    id: instance_spec.id.clone(),
                });
            }
        }
        let regions = spec.instances.iter().map(|i| i.region.clone()).collect();
        let (faults, api_faults, schedule) = (
            spec.faults.clone(),
            spec.api_faults.clone(),
            spec.schedule.clone(),
        );
        let mut sim = Simulation {
            seed,
            start,
            spec,
            now: start,
            instances,
            regions,
            store: RecordStore::default(),
            events: BTreeMap::new(),
            next_event: 0,
            calls: BTreeMap::new(),
            invocations_created: 0,
            client_tokens: BTreeMap::new(),
            faults: Vec::new(),
            api_faults: Vec::new(),
            fault_hits: BTreeMap::new(),
            api_fault_calls: BTreeMap::new(),
            retention: Retention::default(),
            pinned: PinnedIds::default(),
            log: DecisionLog::default(),
        };
        for rule in faults {
            sim.add_fault(rule)?;
        }
        for rule in api_faults {
            sim.add_api_fault(rule)?;
        }
        for scheduled in schedule {
            sim.schedule_change(scheduled.at, scheduled.change)?;
        }
        Ok(sim)
    }

    /// Everything, as plain data.
    pub fn export(&self) -> SimState {
        SimState {
            schema_version: SCHEMA_VERSION,
            seed: self.seed,
            start: self.start,
            now: self.now,
            spec: self.spec.clone(),
            instances: self.instances.values().cloned().collect(),
            records: self.store.iter().cloned().collect(),
            events: self.events.iter().map(|(k, e)| (*k, e.clone())).collect(),
            next_event: self.next_event,
            calls: self.calls.clone(),
            invocations_created: self.invocations_created,
            retention: self.retention,
            client_tokens: self.client_tokens.clone(),
            faults: self.faults.clone(),
            api_faults: self.api_faults.clone(),
            fault_hits: self
                .fault_hits
                .iter()
                .map(|((rule, instance), n)| (rule.clone(), instance.clone(), *n))
                .collect(),
            api_fault_calls: self.api_fault_calls.clone(),
            pinned: self.pinned.clone(),
            log: self.log.clone(),
        }
    }

    /// A simulation exactly where `export` left it.
    pub fn import(state: SimState) -> Result<Simulation, FleetError> {
        if state.schema_version != SCHEMA_VERSION {
            return Err(FleetError::SchemaVersion {
                found: state.schema_version,
                expected: SCHEMA_VERSION,
            });
        }
        let mut instances = BTreeMap::new();
        for instance in state.instances {
            let id = instance.spec.id.clone();
            if instances.insert(id.clone(), instance).is_some() {
                return Err(FleetError::DuplicateInstance { id });
            }
        }
        let mut store = RecordStore::default();
        for record in state.records {
            store.insert(record);
        }
        Ok(Simulation {
            seed: state.seed,
            start: state.start,
            regions: instances.values().map(|i| i.spec.region.clone()).collect(),
            spec: state.spec,
            now: state.now,
            instances,
            store,
            events: state.events.into_iter().collect(),
            next_event: state.next_event,
            calls: state.calls,
            invocations_created: state.invocations_created,
            retention: state.retention,
            client_tokens: state.client_tokens,
            faults: state.faults,
            api_faults: state.api_faults,
            fault_hits: state
                .fault_hits
                .into_iter()
                .map(|(r, i, n)| ((r, i), n))
                .collect(),
            api_fault_calls: state.api_fault_calls,
            pinned: state.pinned,
            log: state.log,
        })
    }

    /// Keeps records for `retention` instead of the seed's two weeks and
    /// 100,000 records.
    pub fn with_retention(mut self, retention: Retention) -> Simulation {
        self.retention = retention;
        self
    }

    /// Back to the fleet as loaded, at the start time, with no records.
    pub fn reset(&mut self) {
        // `new` accepted this spec already, so it cannot fail now.
        if let Ok(fresh) = Simulation::new(self.spec.clone(), self.seed, self.start) {
            *self = fresh.with_retention(self.retention);
        }
    }

    /// Forgets records past the retention window or cap, with their tokens
    /// and any task of theirs still in flight.
    fn expire_records(&mut self) {
        for record in self.store.expire(self.now, self.retention) {
            if let Some(token) = &record.client_token {
                if self.client_tokens.get(token) == Some(&record.invoke_id) {
                    self.client_tokens.remove(token);
                }
            }
            for result in &record.instances {
                if let Some(instance) = self.instances.get_mut(&result.instance_id) {
                    instance.in_flight.remove(&record.invoke_id);
                }
            }
            self.log
                .record(self.now, format!("{}: record expired", record.invoke_id));
        }
    }

    pub fn now(&self) -> Timestamp {
        self.now
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn start(&self) -> Timestamp {
        self.start
    }

    pub fn spec(&self) -> &FleetSpec {
        &self.spec
    }

    pub fn instances(&self) -> impl Iterator<Item = &Instance> {
        self.instances.values()
    }

    pub fn instance(&self, id: &InstanceId) -> Option<&Instance> {
        self.instances.get(id)
    }

    pub fn records(&self) -> &RecordStore {
        &self.store
    }

    pub fn log(&self) -> impl Iterator<Item = &LogEntry> {
        self.log.since(0)
    }

    pub fn has_region(&self, region: &RegionId) -> bool {
        self.regions.contains(region)
    }

    /// Runs every event due by `to`, in time order, and leaves the clock
    /// there. Time never goes backwards: an earlier `to` does nothing.
    pub fn advance_to(&mut self, to: Timestamp) {
        while let Some(entry) = self.events.first_entry() {
            if entry.key().0 > to {
                break;
            }
            let ((at, _, _), event) = entry.remove_entry();
            self.now = self.now.max(at);
            self.handle(event);
        }
        self.now = self.now.max(to);
        self.expire_records();
    }

    /// Pins the ids the next SendFile and the next response take.
    pub fn pin_ids(&mut self, pinned: PinnedIds) {
        if pinned.invoke_id.is_some() {
            self.pinned.invoke_id = pinned.invoke_id;
        }
        if pinned.request_id.is_some() {
            self.pinned.request_id = pinned.request_id;
        }
    }

    /// The `RequestId` of the next response to `action`: an uppercase UUID
    /// drawn from the stream keyed by the action and its call counter.
    pub fn next_request_id(&mut self, action: &str) -> RequestId {
        let action = COUNTED_ACTIONS
            .into_iter()
            .find(|a| *a == action)
            .unwrap_or("Other");
        let counter = self.calls.entry(action.to_owned()).or_insert(0);
        let n = *counter;
        *counter += 1;
        if let Some(pinned) = self.pinned.request_id.take() {
            return pinned;
        }
        let hex = rng::hex(
            &mut rng::stream(
                self.seed,
                &[b"RequestId", action.as_bytes(), &n.to_le_bytes()],
            ),
            16,
        )
        .to_uppercase();
        RequestId::new(format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        ))
    }

    /// Accepts a SendFile: one record, one task per instance, now.
    pub fn send_file(&mut self, request: SendFileRequest) -> Result<InvokeId, ApiError> {
        if !self.has_region(&request.region_id) {
            return Err(ApiError::RegionNotFound);
        }
        // An id this region never had is refused outright; a released
        // instance is still known and fails on its own (InstanceNotExists).
        let known = |id: &InstanceId| {
            self.instances
                .get(id)
                .is_some_and(|i| i.spec.region == request.region_id)
        };
        if !request.instance_ids.iter().all(known) {
            return Err(ApiError::InstanceNotFound);
        }
        if let Some(group) = &request.resource_group_id {
            let in_group = |i: &Instance| i.spec.resource_group_id.as_ref() == Some(group);
            if !self.instances.values().any(in_group) {
                return Err(ApiError::ResourceGroupNotFound);
            }
            if !request
                .instance_ids
                .iter()
                .all(|id| self.instances.get(id).is_some_and(in_group))
            {
                return Err(ApiError::InstanceNotFound);
            }
        }
        // A retried call with the same token gets the first call's answer,
        // for as long as the first call's record is kept.
        if let Some(token) = &request.client_token {
            if let Some(first) = self.client_tokens.get(token) {
                if self.store.contains(first) {
                    return Ok(first.clone());
                }
            }
        }

        let invoke_id = self.new_invoke_id();
        let now = self.now;
        let deadline = now.plus_millis(request.timeout_seconds.saturating_mul(1000));
        self.log.record(
            now,
            format!(
                "{invoke_id}: SendFile of {:?} to {} instance(s), timeout {}s",
                request.file.name,
                request.instance_ids.len(),
                request.timeout_seconds
            ),
        );
        let mut instances = Vec::with_capacity(request.instance_ids.len());
        for instance_id in &request.instance_ids {
            instances.push(InstanceResult::pending(instance_id.clone(), now));
            let (ordinal, dispatch_ms, write_ms) = self.draw_task_timing(instance_id);
            let injected = self.injected_fault(instance_id, &request.file.name, ordinal);
            if let Some(code) = injected {
                self.log.record(
                    now,
                    format!("{invoke_id} on {instance_id}: fault injected: {code}"),
                );
            }
            if let Some(instance) = self.instances.get_mut(instance_id) {
                instance.in_flight.insert(invoke_id.clone());
            }
            let task = |kind| Event::Task {
                invoke_id: invoke_id.clone(),
                instance_id: instance_id.clone(),
                kind,
                injected,
            };
            self.schedule(
                now.plus_millis(dispatch_ms),
                task(EventKind::Dispatch { write_ms }),
            );
            self.schedule(deadline, task(EventKind::Deadline));
        }
        self.store.insert(InvocationRecord {
            invoke_id: invoke_id.clone(),
            region_id: request.region_id,
            creation_time: now,
            timeout_seconds: request.timeout_seconds,
            file: request.file,
            resource_group_id: request.resource_group_id,
            tags: request.tags,
            client_token: request.client_token.clone(),
            instances,
        });
        if let Some(token) = request.client_token {
            self.client_tokens.insert(token, invoke_id.clone());
        }
        self.expire_records();
        Ok(invoke_id)
    }

    /// The page of records a DescribeSendFileResults asks for.
    pub fn describe(&self, request: &DescribeSendFileResultsRequest) -> Result<Page<'_>, ApiError> {
        if !self.has_region(&request.region_id) {
            return Err(ApiError::RegionNotFound);
        }
        self.store
            .query(request)
            .map_err(|_| ApiError::InvalidNextToken)
    }

    /// DescribeCloudAssistantStatus: the agents of the region's instances
    /// (or of `instance_ids`), sorted by instance id, with the matching
    /// total and, in token paging, the next token.
    pub fn cloud_assistant_status(
        &self,
        request: &DescribeCloudAssistantStatusRequest,
    ) -> Result<(Vec<AgentReport>, u64, Option<String>), ApiError> {
        if !self.has_region(&request.region_id) {
            return Err(ApiError::RegionNotFound);
        }
        let in_region = |instance: &&Instance| {
            instance.spec.region == request.region_id && instance.state != InstanceState::Released
        };
        let os_matches = |instance: &&Instance| {
            request.os_type.as_ref().is_none_or(|os| {
                let name = match instance.os() {
                    OsType::Linux => "linux",
                    OsType::Windows => "windows",
                };
                os.eq_ignore_ascii_case(name)
            })
        };
        if !request.instance_ids.is_empty() {
            // Named instances: every one must exist here; paging is ignored.
            let mut reports = Vec::with_capacity(request.instance_ids.len());
            for id in &request.instance_ids {
                let instance = self
                    .instances
                    .get(id)
                    .filter(in_region)
                    .ok_or(ApiError::InstanceNotFound)?;
                if os_matches(&instance) {
                    reports.push(instance.report(self.now));
                }
            }
            let total = reports.len() as u64;
            return Ok((reports, total, None));
        }
        let matching: Vec<&Instance> = self
            .instances
            .values()
            .filter(in_region)
            .filter(os_matches)
            .collect();
        match &request.paging {
            Paging::Pages { number, size } => {
                let offset = usize::try_from(number.saturating_sub(1).saturating_mul(*size))
                    .unwrap_or(usize::MAX);
                let size = usize::try_from(*size).unwrap_or(usize::MAX);
                let page = matching
                    .iter()
                    .skip(offset)
                    .take(size)
                    .map(|i| i.report(self.now))
                    .collect();
                Ok((page, matching.len() as u64, None))
            }
            Paging::Token {
                max_results,
                next_token,
            } => {
                let start = match next_token {
                    Some(token) => {
                        let after = matching
                            .iter()
                            .position(|i| i.spec.id.as_str() == token)
                            .ok_or(ApiError::InvalidNextToken)?;
                        after + 1
                    }
                    None => 0,
                };
                let size = usize::try_from(*max_results).unwrap_or(usize::MAX);
                let page: Vec<AgentReport> = matching
                    .iter()
                    .skip(start)
                    .take(size)
                    .map(|i| i.report(self.now))
                    .collect();
                let more = start + page.len() < matching.len();
                let token = match (more, page.last()) {
                    (true, Some(last)) => last.instance_id.to_string(),
                    _ => String::new(),
                };
                Ok((page, 0, Some(token)))
            }
        }
    }

    /// Adds a per-instance fault rule (named `fault-N` when it has no id).
    pub fn add_fault(&mut self, mut rule: FaultRule) -> Result<FaultRule, FleetError> {
        faults::check_rate(rule.rate).map_err(FleetError::InvalidFault)?;
        let content = serde_json::to_vec(&rule).unwrap_or_default();
        rule.id = self.rule_id(rule.id, "fault", &content)?;
        self.log.record(
            self.now,
            format!("fault {} added: {}", rule.id, rule.error_code),
        );
        self.faults.push(rule.clone());
        Ok(rule)
    }

    /// Adds an API fault rule (named `api-fault-N` when it has no id).
    pub fn add_api_fault(&mut self, mut rule: ApiFaultRule) -> Result<ApiFaultRule, FleetError> {
        faults::check_rate(rule.rate).map_err(FleetError::InvalidFault)?;
        if let ApiFaultKind::Latency { millis } = rule.kind {
            if millis > faults::MAX_LATENCY_MS {
                return Err(FleetError::InvalidFault(format!(
                    "latency of {millis} ms is over the {} ms a client could wait for",
                    faults::MAX_LATENCY_MS
                )));
            }
        }
        let content = serde_json::to_vec(&rule).unwrap_or_default();
        rule.id = self.rule_id(rule.id, "api-fault", &content)?;
        self.log.record(
            self.now,
            format!("API fault {} added: {:?}", rule.id, rule.kind),
        );
        self.api_faults.push(rule.clone());
        Ok(rule)
    }

    /// The id a rule is known and drawn by. An unnamed rule is named after
    /// its content, so whether it fires never depends on which other rules
    /// were added before it; only identical unnamed rules get a suffix.
    fn rule_id(&self, id: String, prefix: &str, content: &[u8]) -> Result<String, FleetError> {
        let taken = |id: &str| {
            self.faults.iter().any(|r| r.id == id) || self.api_faults.iter().any(|r| r.id == id)
        };
        if !id.is_empty() {
            if taken(&id) {
                return Err(FleetError::InvalidFault(format!(
                    "a fault named `{id}` exists already"
                )));
            }
            return Ok(id);
        }
        let digest = Sha256::digest(content);
        let base = format!("{prefix}-{}", hex_prefix(&digest));
        let mut candidate = base.clone();
        let mut n = 1;
        while taken(&candidate) {
            n += 1;
            candidate = format!("{base}-{n}");
        }
        Ok(candidate)
    }

    pub fn faults(&self) -> &[FaultRule] {
        &self.faults
    }

    pub fn api_faults(&self) -> &[ApiFaultRule] {
        &self.api_faults
    }

    /// Removes the fault rule of either kind named `id`; whether one was.
    pub fn remove_fault(&mut self, id: &str) -> bool {
        let before = self.faults.len() + self.api_faults.len();
        self.faults.retain(|r| r.id != id);
        self.api_faults.retain(|r| r.id != id);
        let removed = before != self.faults.len() + self.api_faults.len();
        if removed {
            self.log.record(self.now, format!("fault {id} removed"));
        }
        removed
    }

    /// Schedules `change` at `at` (now, if `at` has passed).
    pub fn schedule_change(
        &mut self,
        at: Timestamp,
        change: FleetChange,
    ) -> Result<(), FleetError> {
        let id = change.instance_id();
        if !self.instances.contains_key(id) {
            return Err(FleetError::UnknownInstance { id: id.clone() });
        }
        self.schedule(at.max(self.now), Event::Change(change));
        Ok(())
    }

    /// The code a fault rule injects into this instance's task `ordinal`,
    /// if any: the first rule in scope that fires.
    fn injected_fault(
        &mut self,
        instance_id: &InstanceId,
        file_name: &str,
        ordinal: u64,
    ) -> Option<ErrorCode> {
        let instance = self.instances.get(instance_id)?;
        for rule in &self.faults {
            if !rule.scope.covers(instance, file_name) {
                continue;
            }
            let seen = self
                .fault_hits
                .entry((rule.id.clone(), instance_id.clone()))
                .or_insert(0);
            let within_first = rule.first.is_none_or(|first| *seen < first);
            *seen += 1;
            let key = [
                b"fault".as_slice(),
                rule.id.as_bytes(),
                instance_id.as_str().as_bytes(),
                &ordinal.to_le_bytes(),
            ];
            if within_first && faults::fires(self.seed, rule.rate, &key) {
                return Some(rule.error_code);
            }
        }
        None
    }

    /// The API fault, if any, that this call to `action` meets.
    pub fn api_fault(&mut self, action: &str) -> Option<ApiFaultKind> {
        for rule in &self.api_faults {
            if !rule.actions.is_empty() && !rule.actions.iter().any(|a| a == action) {
                continue;
            }
            let (calls, fired) = self
                .api_fault_calls
                .entry(rule.id.clone())
                .or_insert((0, 0));
            let call = *calls;
            *calls += 1;
            if rule.count.is_some_and(|count| *fired >= count) {
                continue;
            }
            let key = [
                b"api-fault".as_slice(),
                rule.id.as_bytes(),
                &call.to_le_bytes(),
            ];
            if faults::fires(self.seed, rule.rate, &key) {
                *fired += 1;
                let kind = rule.kind;
                self.log.record(
                    self.now,
                    format!("{action}: API fault {} fired: {kind:?}", rule.id),
                );
                return Some(kind);
            }
        }
        None
    }

    /// A file on an instance, as the agent left it.
    pub fn read_file(&self, instance_id: &InstanceId, path: &str) -> Option<&FileData> {
        match self.instances.get(instance_id)?.fs.get(path)? {
            Node::File(data) => Some(data),
            Node::Dir => None,
        }
    }

    /// Applies a change to the fleet now.
    pub fn apply(&mut self, change: &FleetChange) -> Result<(), FleetError> {
        let now = self.now;
        let id = change.instance_id().clone();
        let instance = self
            .instances
            .get_mut(&id)
            .ok_or_else(|| FleetError::UnknownInstance { id: id.clone() })?;
        let invalid = |reason: String| FleetError::InvalidInstance {
            id: id.clone(),
            reason,
        };
        // A released instance is gone: nothing can happen to it any more.
        if instance.state == InstanceState::Released {
            return Err(invalid("the instance is released".to_owned()));
        }

        let message = match change {
            FleetChange::StopAgent { .. } => {
                instance.agent = AgentState::Stopped;
                instance.agent_since = Some(now);
                format!("agent on {id} stopped")
            }
            FleetChange::StartAgent { .. } | FleetChange::EndAgentUpgrade { version: None, .. } => {
                instance.agent = AgentState::Running;
                instance.agent_since = Some(now);
                format!("agent on {id} running")
            }
            FleetChange::SilenceAgent { .. } => {
                instance.agent = AgentState::Silent;
                instance.agent_since = Some(now);
                instance.silent_since = now;
                format!("agent on {id} went silent")
            }
            FleetChange::BeginAgentUpgrade { .. } => {
                instance.agent = AgentState::Upgrading;
                instance.agent_since = Some(now);
                format!("agent on {id} began upgrading")
            }
            FleetChange::EndAgentUpgrade {
                version: Some(version),
                ..
            } => {
                if parse_version(version).is_none() {
                    return Err(invalid(format!(
                        "agent version `{version}` is not dotted numbers"
                    )));
                }
                instance.agent = AgentState::Running;
                instance.agent_since = Some(now);
                instance.agent_version = version.clone();
                format!("agent on {id} upgraded to {version}")
            }
            FleetChange::StopInstance { .. } => {
                instance.state = InstanceState::Stopped;
                format!("instance {id} stopped")
            }
            FleetChange::StartInstance { .. } => {
                if instance.state == InstanceState::Released {
                    return Err(invalid("a released instance cannot start".to_owned()));
                }
                instance.state = InstanceState::Running;
                format!("instance {id} started")
            }
            FleetChange::ReleaseInstance { .. } => {
                instance.state = InstanceState::Released;
                let in_flight = std::mem::take(&mut instance.in_flight);
                for invoke_id in &in_flight {
                    self.finish_task(
                        invoke_id,
                        &id,
                        Err(ErrorCode::InstanceReleased),
                        "released while the task was in flight",
                    );
                }
                format!("instance {id} released")
            }
            FleetChange::AddFile {
                path,
                content,
                mode,
                owner,
                group,
                ..
            } => {
                let os = instance.os();
                let key = instance
                    .fs
                    .normalise(path)
                    .ok_or_else(|| invalid(format!("path `{path}` is not absolute")))?;
                if let Some(Node::Dir) = instance.fs.get(&key) {
                    return Err(invalid(format!("path `{path}` is a directory")));
                }
                instance
                    .fs
                    .mkdir_all(&parent_of(&key, os))
                    .map_err(|_| invalid(format!("path `{path}` is inside a file")))?;
                let data = FileData {
                    bytes: content.as_bytes().to_vec(),
                    mode: mode.clone(),
                    owner: owner.clone(),
                    group: group.clone(),
                };
                instance.fs.write(key, data);
                format!("file {path} appeared on {id}")
            }
            FleetChange::AddUser { user, .. } => {
                instance.users.insert(user.clone());
                format!("user {user} added on {id}")
            }
            FleetChange::RemoveUser { user, .. } => {
                instance.users.remove(user);
                format!("user {user} removed from {id}")
            }
            FleetChange::AddGroup { group, .. } => {
                instance.groups.insert(group.clone());
                format!("group {group} added on {id}")
            }
            FleetChange::RemoveGroup { group, .. } => {
                instance.groups.remove(group);
                format!("group {group} removed from {id}")
            }
            FleetChange::FillDisk { .. } => {
                instance.disk_free_bytes = Some(0);
                format!("disk of {id} is full")
            }
            FleetChange::FreeDisk { bytes, .. } => {
                instance.disk_free_bytes = *bytes;
                match bytes {
                    Some(bytes) => format!("disk of {id} has {bytes} bytes free"),
                    None => format!("disk of {id} has room again"),
                }
            }
            FleetChange::RemoveFile { path, .. } => {
                if !instance.fs.remove(path) {
                    return Err(invalid(format!("no file or empty directory `{path}`")));
                }
                format!("file {path} removed from {id}")
            }
        };
        self.log.record(now, message);
        Ok(())
    }

    fn new_invoke_id(&mut self) -> InvokeId {
        if let Some(pinned) = self.pinned.invoke_id.take() {
            if !self.store.contains(&pinned) {
                return pinned;
            }
        }
        loop {
            let n = self.invocations_created;
            self.invocations_created += 1;
            let mut stream = rng::stream(self.seed, &[b"InvokeId", &n.to_le_bytes()]);
            let id = InvokeId::new(format!("f-{}", &rng::hex(&mut stream, 9)));
            if !self.store.contains(&id) {
                return id;
            }
        }
    }

    /// Dispatch delay and write time of the instance's next task, from the
    /// stream keyed by (seed, instance, task ordinal on that instance).
    fn draw_task_timing(&mut self, instance_id: &InstanceId) -> (u64, u64, u64) {
        let Some(instance) = self.instances.get_mut(instance_id) else {
            return (0, 0, 0);
        };
        let ordinal = instance.tasks_given;
        instance.tasks_given += 1;
        instance.last_invoked = Some(self.now);
        let group = instance
            .spec
            .instance_group
            .as_ref()
            .and_then(|g| self.spec.instance_groups.get(g));
        let pick = |field: fn(&Timing) -> Option<Delay>, built_in: Delay| {
            field(&instance.spec.timing)
                .or_else(|| group.and_then(field))
                .or_else(|| field(&self.spec.timing))
                .unwrap_or(built_in)
        };
        let dispatch = pick(|t| t.dispatch_delay, Timing::BUILT_IN_DISPATCH);
        let write = pick(|t| t.write_duration, Timing::BUILT_IN_WRITE);
        let mut stream = rng::stream(
            self.seed,
            &[
                b"task",
                instance_id.as_str().as_bytes(),
                &ordinal.to_le_bytes(),
            ],
        );
        (
            ordinal,
            rng::draw(&mut stream, dispatch),
            rng::draw(&mut stream, write),
        )
    }

    fn schedule(&mut self, at: Timestamp, event: Event) {
        let rank = match &event {
            Event::Task {
                kind: EventKind::Deadline,
                ..
            } => 1,
            _ => 0,
        };
        self.events.insert((at, rank, self.next_event), event);
        self.next_event += 1;
    }

    fn handle(&mut self, event: Event) {
        let (invoke_id, instance_id, kind, injected) = match event {
            Event::Task {
                invoke_id,
                instance_id,
                kind,
                injected,
            } => (invoke_id, instance_id, kind, injected),
            Event::Change(change) => {
                if let Err(error) = self.apply(&change) {
                    self.log
                        .record(self.now, format!("scheduled change not applied: {error}"));
                }
                return;
            }
        };
        let now = self.now;
        let Some(status) = self
            .store
            .get(&invoke_id)
            .and_then(|record| record.instance(&instance_id))
            .map(|result| result.status)
        else {
            return;
        };
        if status.is_terminal() {
            return;
        }
        match kind {
            EventKind::Dispatch { write_ms } => {
                let Some(instance) = self.instances.get(&instance_id) else {
                    return;
                };
                if let Some(code) = instance.refuses_dispatch(now) {
                    self.finish_task(&invoke_id, &instance_id, Err(code), "refused at dispatch");
                    return;
                }
                if let Some(code) = injected.filter(|code| fails_at_dispatch(*code)) {
                    self.finish_task(&invoke_id, &instance_id, Err(code), "injected at dispatch");
                    return;
                }
                self.update(&invoke_id, &instance_id, |result| result.start(now));
                self.log.record(
                    now,
                    format!("{invoke_id} on {instance_id}: agent took the task"),
                );
                if injected == Some(ErrorCode::DeliveryTimeout) {
                    // The injected hang: the agent never reports back.
                    return;
                }
                let finish = Event::Task {
                    invoke_id,
                    instance_id,
                    kind: EventKind::Finish,
                    injected,
                };
                self.schedule(now.plus_millis(write_ms), finish);
            }
            EventKind::Finish => {
                let file = match self.store.get(&invoke_id) {
                    Some(record) => record.file.clone(),
                    None => return,
                };
                let Some(instance) = self.instances.get_mut(&instance_id) else {
                    return;
                };
                if !instance.can_finish_tasks() {
                    let why = format!(
                        "{invoke_id} on {instance_id}: agent cannot finish (instance {:?}, agent {:?}); the task waits for its timeout",
                        instance.state, instance.agent
                    );
                    self.log.record(now, why);
                    return;
                }
                if let Some(code) = injected {
                    self.finish_task(&invoke_id, &instance_id, Err(code), "injected on the agent");
                    return;
                }
                let outcome = agent::write_file(instance, &file);
                self.finish_task(&invoke_id, &instance_id, outcome, "agent finished");
            }
            EventKind::Deadline => {
                self.finish_task(
                    &invoke_id,
                    &instance_id,
                    Err(ErrorCode::DeliveryTimeout),
                    "timeout reached",
                );
            }
        }
    }

    fn finish_task(
        &mut self,
        invoke_id: &InvokeId,
        instance_id: &InstanceId,
        outcome: Result<(), ErrorCode>,
        why: &str,
    ) {
        let now = self.now;
        self.update(invoke_id, instance_id, |result| match outcome {
            Ok(()) => result.succeed(now),
            Err(code) => result.fail(code, now),
        });
        if let Some(instance) = self.instances.get_mut(instance_id) {
            instance.in_flight.remove(invoke_id);
        }
        let verdict = match outcome {
            Ok(()) => "Success".to_owned(),
            Err(code) => format!("{} with {code}", code.status()),
        };
        self.log.record(
            now,
            format!("{invoke_id} on {instance_id}: {why}: {verdict}"),
        );
    }

    fn update(
        &mut self,
        invoke_id: &InvokeId,
        instance_id: &InstanceId,
        change: impl FnOnce(&mut InstanceResult),
    ) {
        if let Some(result) = self.store.get_mut(invoke_id).and_then(|record| {
            record
                .instances
                .iter_mut()
                .find(|i| &i.instance_id == instance_id)
        }) {
            change(result);
        }
    }
}

/// The first four bytes of a digest as hex: enough to tell rules apart.
fn hex_prefix(digest: &[u8]) -> String {
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

/// Injected codes that show before the agent has the task: the service
/// could not deliver it.
fn fails_at_dispatch(code: ErrorCode) -> bool {
    matches!(
        code.status(),
        casim_model::InstanceStatus::Aborted | casim_model::InstanceStatus::Error
    )
}
