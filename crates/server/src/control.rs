//! The control API under `/_casim/`: our own extension for moving the
//! clock, changing the fleet and looking inside instances. Documented in
//! `docs/control-api.md`. It never changes the shape of RPC responses.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, OriginalUri, Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use casim_fleet::{
    ApiFaultRule, FaultRule, FleetChange, FleetError, FleetSpec, PinnedIds, SimState, Simulation,
};
use casim_model::{InstanceId, Timestamp};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::clock::ClockMode;
use crate::state::{AppState, World};

/// The reserved prefix; the real service never serves anything under it.
pub const PREFIX: &str = "/_casim";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance))
        .route(
            "/fleet",
            get(fleet)
                .put(load_fleet)
                .layer(DefaultBodyLimit::max(STATE_BODY_LIMIT)),
        )
        .route("/fleet/changes", post(change))
        .route("/instances/{id}/file", get(read_file))
        .route("/next-ids", post(next_ids))
        .route("/log", get(log))
        .route("/log/stream", get(log_stream))
        .route("/reset", post(reset))
        .route("/clock/mode", post(clock_mode))
        .route("/seed", post(seed))
        // A state holds up to 100,000 records; the 2 MiB default would
        // refuse most real exports on the way back in.
        .route(
            "/state",
            get(export_state)
                .put(import_state)
                .layer(DefaultBodyLimit::max(STATE_BODY_LIMIT)),
        )
        .route("/faults", get(list_faults).post(add_fault))
        .route("/api-faults", post(add_api_fault))
        .route("/faults/{id}", delete(remove_fault))
        .fallback(unknown_path)
        .method_not_allowed_fallback(wrong_method)
}

/// Largest body the state and fleet endpoints take.
const STATE_BODY_LIMIT: usize = 256 << 20;

async fn unknown_path(OriginalUri(uri): OriginalUri) -> ControlError {
    ControlError(
        StatusCode::NOT_FOUND,
        format!(
            "no control endpoint {}; see docs/control-api.md",
            uri.path()
        ),
    )
}

async fn wrong_method(method: axum::http::Method, OriginalUri(uri): OriginalUri) -> ControlError {
    ControlError(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{method} is not allowed on {}; see docs/control-api.md",
            uri.path()
        ),
    )
}

/// Reads a query string, naming what is wrong with it.
fn query<T>(query: Result<Query<T>, QueryRejection>) -> Result<T, ControlError> {
    query
        .map(|Query(value)| value)
        .map_err(|rejection| bad_request(rejection.body_text()))
}

/// An error of the control API: a status and a sentence.
struct ControlError(StatusCode, String);

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn bad_request(message: impl Into<String>) -> ControlError {
    ControlError(StatusCode::BAD_REQUEST, message.into())
}

/// Reads a JSON body, naming what is wrong with it.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ControlError> {
    serde_json::from_slice(body).map_err(|error| bad_request(format!("invalid JSON body: {error}")))
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

fn clock_view(world: &World) -> Value {
    let now = world.sim.now();
    let (mode, speed) = match world.clock.mode() {
        ClockMode::Manual => ("manual", None),
        ClockMode::Wall { speed } => ("wall", Some(speed)),
    };
    let mut view = json!({ "now": now.to_string(), "now_ms": now.as_millis(), "mode": mode });
    if let Some(speed) = speed {
        view["speed"] = json!(speed);
    }
    view
}

async fn clock(State(state): State<AppState>) -> Json<Value> {
    Json(clock_view(&state.world()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    millis: u64,
}

async fn advance(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ControlError> {
    let Advance { millis } = parse(&body)?;
    let mut world = state.world();
    let from = world.sim.now();
    let to = world.clock.advance(from, millis);
    world.sim.advance_to(to);
    Ok(Json(clock_view(&world)))
}

async fn fleet(State(state): State<AppState>) -> Json<FleetSpec> {
    Json(state.world().sim.spec().clone())
}

async fn load_fleet(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<FleetSpec>, ControlError> {
    let spec: FleetSpec = parse(&body)?;
    let mut world = state.world();
    let (seed, start) = (world.sim.seed(), world.sim.start());
    world
        .sim
        .restart(spec, seed)
        .map_err(|error| bad_request(error.to_string()))?;
    world.clock.reset(start);
    Ok(Json(world.sim.spec().clone()))
}

/// A change now, at a virtual time (`at`), or after a delay (`after_ms`).
#[derive(Deserialize)]
struct ChangeRequest {
    #[serde(default)]
    at: Option<Timestamp>,
    #[serde(default)]
    after_ms: Option<u64>,
    #[serde(flatten)]
    change: FleetChange,
}

fn fleet_error(error: FleetError) -> ControlError {
    match error {
        FleetError::UnknownInstance { .. } => {
            ControlError(StatusCode::NOT_FOUND, error.to_string())
        }
        _ => bad_request(error.to_string()),
    }
}

async fn change(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ControlError> {
    let ChangeRequest {
        at,
        after_ms,
        change,
    } = parse(&body)?;
    let mut world = state.world();
    let now = world.sim.now();
    let due = match (at, after_ms) {
        (Some(_), Some(_)) => return Err(bad_request("give `at` or `after_ms`, not both")),
        (Some(at), None) => Some(at),
        (None, Some(ms)) => Some(now.plus_millis(ms)),
        (None, None) => None,
    };
    match due {
        Some(due) if due > now => {
            world
                .sim
                .schedule_change(due, change.clone())
                .map_err(fleet_error)?;
            Ok(Json(json!({ "scheduled": change, "at": due.to_string() })))
        }
        _ => {
            world.sim.apply(&change).map_err(fleet_error)?;
            Ok(Json(json!({ "applied": change, "at": now.to_string() })))
        }
    }
}

#[derive(Deserialize)]
struct FileQuery {
    path: String,
}

async fn read_file(
    State(state): State<AppState>,
    Path(id): Path<String>,
    file_query: Result<Query<FileQuery>, QueryRejection>,
) -> Result<Json<Value>, ControlError> {
    let FileQuery { path } = query(file_query)?;
    let world = state.world();
    let instance = InstanceId::new(id);
    if world.sim.instance(&instance).is_none() {
        return Err(ControlError(
            StatusCode::NOT_FOUND,
            format!("no instance {instance} in the fleet"),
        ));
    }
    let data = world.sim.read_file(&instance, &path).ok_or_else(|| {
        ControlError(
            StatusCode::NOT_FOUND,
            format!("no file `{path}` on {instance}"),
        )
    })?;
    Ok(Json(json!({
        "path": path,
        "content_base64": BASE64.encode(&data.bytes),
        "mode": data.mode,
        "owner": data.owner,
        "group": data.group,
    })))
}

async fn next_ids(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ControlError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Pin {
        invoke_id: Option<String>,
        request_id: Option<String>,
    }
    let pin: Pin = parse(&body)?;
    let pinned = PinnedIds {
        invoke_id: pin.invoke_id.map(casim_model::InvokeId::new),
        request_id: pin.request_id.map(casim_model::RequestId::new),
    };
    state
        .world()
        .sim
        .pin_ids(pinned.clone())
        .map_err(|error| match error {
            FleetError::InvalidPin(_) => ControlError(StatusCode::CONFLICT, error.to_string()),
            other => fleet_error(other),
        })?;
    Ok(Json(json!({ "pinned": pinned })))
}

#[derive(Deserialize)]
struct LogQuery {
    #[serde(default)]
    since: u64,
}

async fn log(
    State(state): State<AppState>,
    log_query: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Json<Value>, ControlError> {
    let LogQuery { since } = query(log_query)?;
    let world = state.world();
    let entries: Vec<Value> = world
        .sim
        .log()
        .filter(|entry| entry.seq >= since)
        .map(|entry| json!({ "seq": entry.seq, "at": entry.at.to_string(), "message": entry.message }))
        .collect();
    Ok(Json(json!({ "entries": entries })))
}

/// Follows the decision log as server-sent events, one entry per event,
/// from `since` on. The simulation is caught up on each poll, so entries
/// appear as virtual time passes even when nobody calls the API.
async fn log_stream(
    State(state): State<AppState>,
    log_query: Result<Query<LogQuery>, QueryRejection>,
) -> Result<
    Sse<impl futures_util::Stream<Item = Result<SseEvent, std::convert::Infallible>>>,
    ControlError,
> {
    let LogQuery { since } = query(log_query)?;
    let stream = futures_util::stream::unfold((state, since), |(state, next)| async move {
        loop {
            let (batch, last): (Vec<SseEvent>, Option<u64>) = {
                let world = state.world();
                let entries: Vec<_> = world
                    .sim
                    .log()
                    .filter(|e| e.seq >= next)
                    .take(100)
                    .collect();
                let last = entries.last().map(|entry| entry.seq);
                let events = entries
                    .into_iter()
                    .map(|entry| {
                        SseEvent::default()
                            .id(entry.seq.to_string())
                            .data(format!("{} {}", entry.at, entry.message))
                    })
                    .collect();
                (events, last)
            };
            // Resume after the last entry sent, not after as many as were
            // sent: numbering may skip what the log has already dropped.
            if let Some(last) = last {
                return Some((
                    futures_util::stream::iter(batch.into_iter().map(Ok)),
                    (state, last.saturating_add(1)),
                ));
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    });
    Ok(Sse::new(futures_util::StreamExt::flatten(stream)).keep_alive(KeepAlive::default()))
}

#[derive(Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase", deny_unknown_fields)]
enum ModeRequest {
    Manual,
    Wall {
        #[serde(default = "one")]
        speed: f64,
    },
}

fn one() -> f64 {
    1.0
}

/// Freezes the clock, or runs it in real time at a speed factor, from
/// where virtual time stands now.
async fn clock_mode(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let mode = match parse::<ModeRequest>(&body)? {
        ModeRequest::Manual => ClockMode::Manual,
        ModeRequest::Wall { speed } if speed.is_finite() && speed > 0.0 => {
            ClockMode::Wall { speed }
        }
        ModeRequest::Wall { speed } => {
            return Err(bad_request(format!(
                "speed must be a positive number, got {speed}"
            )));
        }
    };
    let mut world = state.world();
    let now = world.sim.now();
    world.clock.set_mode(mode, now);
    Ok(Json(clock_view(&world)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedRequest {
    seed: u64,
}

/// Starts over (fleet as loaded, no records, clock at its start) with a new
/// master seed.
async fn seed(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ControlError> {
    let SeedRequest { seed } = parse(&body)?;
    let mut world = state.world();
    let (spec, start) = (world.sim.spec().clone(), world.sim.start());
    world.sim.restart(spec, seed).map_err(fleet_error)?;
    world.clock.reset(start);
    Ok(Json(json!({ "seed": seed, "now": start.to_string() })))
}

async fn export_state(State(state): State<AppState>) -> Json<SimState> {
    Json(state.world().sim.export())
}

/// Replaces everything with an exported state; the clock continues from
/// the state's virtual time.
async fn import_state(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<Value>, ControlError> {
    let imported: SimState = parse(&body)?;
    let sim = Simulation::import(imported).map_err(fleet_error)?;
    let mut world = state.world();
    let now = sim.now();
    world.sim = sim;
    world.clock.reset(now);
    Ok(Json(clock_view(&world)))
}

async fn list_faults(State(state): State<AppState>) -> Json<Value> {
    let world = state.world();
    Json(json!({ "faults": world.sim.faults(), "api_faults": world.sim.api_faults() }))
}

async fn add_fault(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<FaultRule>, ControlError> {
    let rule: FaultRule = parse(&body)?;
    state
        .world()
        .sim
        .add_fault(rule)
        .map(Json)
        .map_err(fleet_error)
}

async fn add_api_fault(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<ApiFaultRule>, ControlError> {
    let rule: ApiFaultRule = parse(&body)?;
    state
        .world()
        .sim
        .add_api_fault(rule)
        .map(Json)
        .map_err(fleet_error)
}

async fn remove_fault(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ControlError> {
    if state.world().sim.remove_fault(&id) {
        Ok(Json(json!({ "removed": id })))
    } else {
        Err(ControlError(
            StatusCode::NOT_FOUND,
            format!("no fault named `{id}`"),
        ))
    }
}

async fn reset(State(state): State<AppState>) -> Result<Json<Value>, ControlError> {
    let mut world = state.world();
    // `reset` goes back to a fleet the simulation was built from, which
    // loaded then; should that ever fail, say so rather than pretend.
    if let Err(error) = world.sim.reset() {
        return Err(fleet_error(error));
    }
    let start: Timestamp = world.sim.start();
    world.clock.reset(start);
    Ok(Json(clock_view(&world)))
}
