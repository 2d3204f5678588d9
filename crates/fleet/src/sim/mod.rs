//! The discrete-event simulation: a fleet, its records, and the queue of
//! what happens next, all moved by a clock the caller controls.
//!
//! A task on an instance lives through three events: *dispatch* after a
//! seeded delay (the service judges whether the agent can be reached),
//! *finish* after a seeded write time (the agent runs its checks and writes
//! the file), and a *deadline* at creation + `Timeout` that ends anything
//! still unfinished with `DeliveryTimeout`.

mod changes;
mod fault_rules;
mod ids;
mod state;
mod status;

pub use state::SimState;

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
use crate::faults::{ApiFaultKind, ApiFaultRule, FaultRule};
use crate::fs::parent_of;
use crate::fs::{FileData, Node};
use crate::instance::{AgentReport, Instance, parse_version};
use crate::log::{DecisionLog, LogEntry};
use crate::rng;
use crate::spec::{AgentState, Delay, FleetSpec, InstanceState, SCHEMA_VERSION, Timing};
use crate::store::{Page, RecordStore, Retention};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum EventKind {
    /// Hand the task (the instance's `ordinal`-th) to the agent; on success
    /// it writes for `write_ms`.
    Dispatch {
        write_ms: u64,
        ordinal: u64,
    },
    /// The agent's write ends. `disruptions` is the instance's count when
    /// the agent took the task: if it has moved since, the agent lost the
    /// task. `injected` is the code a fault rule chose at dispatch.
    Finish {
        disruptions: u64,
        injected: Option<ErrorCode>,
    },
    Deadline,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Event {
    /// A step in one instance's task.
    Task {
        invoke_id: InvokeId,
        instance_id: InstanceId,
        kind: EventKind,
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
    /// Per region, like everything a request sees.
    client_tokens: BTreeMap<RegionId, BTreeMap<String, InvokeId>>,
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
        let instances = Simulation::check_spec(&spec)?;
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

    /// The instances `spec` describes, or why it is no fleet: the checks
    /// `new` makes, without building anything else or logging.
    pub fn check_spec(spec: &FleetSpec) -> Result<BTreeMap<InstanceId, Instance>, FleetError> {
        spec.timing.check().map_err(FleetError::InvalidFleet)?;
        for (group, timing) in &spec.instance_groups {
            timing.check().map_err(|reason| {
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
        for rule in &spec.faults {
            crate::faults::check_rate(rule.rate).map_err(FleetError::InvalidFault)?;
        }
        for rule in &spec.api_faults {
            fault_rules::check_api_rule(rule)?;
        }
        Ok(instances)
    }

    /// Keeps records for `retention` instead of the seed's two weeks and
    /// 100,000 records.
    pub fn with_retention(mut self, retention: Retention) -> Simulation {
        self.retention = retention;
        self
    }

    /// Back to the fleet as loaded, at the start time, with no records.
    pub fn reset(&mut self) -> Result<(), FleetError> {
        self.restart(self.spec.clone(), self.seed)
    }

    /// Starts over with `spec` and `seed`: no records, no faults but the
    /// spec's, the clock at the start. Settings (retention) carry over, and
    /// the decision log numbers on, so a live reader misses nothing.
    pub fn restart(&mut self, spec: FleetSpec, seed: u64) -> Result<(), FleetError> {
        let mut fresh = Simulation::new(spec, seed, self.start)?.with_retention(self.retention);
        let startup = std::mem::take(&mut fresh.log);
        fresh.log = self.log.continued();
        fresh.log.adopt(startup);
        *self = fresh;
        Ok(())
    }

    /// Forgets records past the retention window or cap, with their tokens
    /// and any task of theirs still in flight.
    fn expire_records(&mut self) {
        for record in self.store.expire(self.now, self.retention) {
            if let Some(token) = &record.client_token {
                if let Some(tokens) = self.client_tokens.get_mut(&record.region_id) {
                    if tokens.get(token) == Some(&record.invoke_id) {
                        tokens.remove(token);
                    }
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
            let first = self
                .client_tokens
                .get(&request.region_id)
                .and_then(|t| t.get(token));
            if let Some(first) = first.filter(|id| self.store.contains(id)) {
                return Ok(first.clone());
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
            if let Some(instance) = self.instances.get_mut(instance_id) {
                instance.in_flight.insert(invoke_id.clone());
            }
            let task = |kind| Event::Task {
                invoke_id: invoke_id.clone(),
                instance_id: instance_id.clone(),
                kind,
            };
            self.schedule(
                now.plus_millis(dispatch_ms),
                task(EventKind::Dispatch { write_ms, ordinal }),
            );
            self.schedule(deadline, task(EventKind::Deadline));
        }
        self.store.insert(InvocationRecord {
            invoke_id: invoke_id.clone(),
            region_id: request.region_id.clone(),
            creation_time: now,
            timeout_seconds: request.timeout_seconds,
            file: request.file,
            resource_group_id: request.resource_group_id,
            tags: request.tags,
            client_token: request.client_token.clone(),
            instances,
        });
        if let Some(token) = request.client_token {
            self.client_tokens
                .entry(request.region_id)
                .or_default()
                .insert(token, invoke_id.clone());
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

    /// A file on an instance, as the agent left it.
    pub fn read_file(&self, instance_id: &InstanceId, path: &str) -> Option<&FileData> {
        match self.instances.get(instance_id)?.fs.get(path)? {
            Node::File(data) => Some(data),
            Node::Dir => None,
        }
    }

    /// Dispatch delay and write time of the instance's next task, from the
    /// stream keyed by (seed, instance, task ordinal on that instance).
    fn draw_task_timing(&mut self, instance_id: &InstanceId) -> (u64, u64, u64) {
        let Some(instance) = self.instances.get_mut(instance_id) else {
            return (0, 0, 0);
        };
        let ordinal = instance.tasks_given;
        instance.tasks_given = instance.tasks_given.saturating_add(1);
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
        self.next_event = self.next_event.saturating_add(1);
    }

    fn handle(&mut self, event: Event) {
        let (invoke_id, instance_id, kind) = match event {
            Event::Task {
                invoke_id,
                instance_id,
                kind,
            } => (invoke_id, instance_id, kind),
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
            EventKind::Dispatch { write_ms, ordinal } => {
                let Some(instance) = self.instances.get(&instance_id) else {
                    return;
                };
                // A natural cause wins, and spends no fault rule's budget.
                if let Some(code) = instance.refuses_dispatch(now) {
                    self.finish_task(&invoke_id, &instance_id, Err(code), "refused at dispatch");
                    return;
                }
                let disruptions = instance.disruptions;
                let file_name = match self.store.get(&invoke_id) {
                    Some(record) => record.file.name.clone(),
                    None => return,
                };
                let injected = self.injected_fault(&instance_id, &file_name, ordinal);
                if let Some(code) = injected.filter(|code| fails_at_dispatch(*code)) {
                    self.finish_task(
                        &invoke_id,
                        &instance_id,
                        Err(code),
                        "fault rule at dispatch",
                    );
                    return;
                }
                self.update(&invoke_id, &instance_id, |result| result.start(now));
                self.log.record(
                    now,
                    format!("{invoke_id} on {instance_id}: agent took the task"),
                );
                if injected == Some(ErrorCode::DeliveryTimeout) {
                    self.log.record(
                        now,
                        format!("{invoke_id} on {instance_id}: fault rule: the agent will never report back"),
                    );
                    return;
                }
                let finish = Event::Task {
                    invoke_id,
                    instance_id,
                    kind: EventKind::Finish {
                        disruptions,
                        injected,
                    },
                };
                self.schedule(now.plus_millis(write_ms), finish);
            }
            EventKind::Finish {
                disruptions,
                injected,
            } => {
                let file = match self.store.get(&invoke_id) {
                    Some(record) => record.file.clone(),
                    None => return,
                };
                let Some(instance) = self.instances.get_mut(&instance_id) else {
                    return;
                };
                // An agent that stopped, fell silent or began an upgrade while
                // it held the task (or whose instance stopped) lost it, even if
                // it is back by now; the task ends at its deadline.
                if instance.disruptions != disruptions || !instance.can_finish_tasks() {
                    let why = format!(
                        "{invoke_id} on {instance_id}: the agent lost the task (instance {:?}, agent {:?}); it waits for its timeout",
                        instance.state, instance.agent
                    );
                    self.log.record(now, why);
                    return;
                }
                if let Some(code) = injected {
                    self.finish_task(
                        &invoke_id,
                        &instance_id,
                        Err(code),
                        "fault rule on the agent",
                    );
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

/// Injected codes that show before the agent has the task: the service
/// could not deliver it.
fn fails_at_dispatch(code: ErrorCode) -> bool {
    matches!(
        code.status(),
        casim_model::InstanceStatus::Aborted | casim_model::InstanceStatus::Error
    )
}
