//! The control API under `/_casim/`: our own extension for moving the
//! clock, changing the fleet and looking inside instances. Documented in
//! `docs/control-api.md`. It never changes the shape of RPC responses.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use casim_fleet::{FleetChange, FleetSpec, PinnedIds, Simulation};
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
        .route("/fleet", get(fleet).put(load_fleet))
        .route("/fleet/changes", post(change))
        .route("/instances/{id}/file", get(read_file))
        .route("/next-ids", post(next_ids))
        .route("/log", get(log))
        .route("/reset", post(reset))
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
    let sim = Simulation::new(spec, seed, start).map_err(|error| bad_request(error.to_string()))?;
    world.sim = sim;
    world.clock.reset(start);
    Ok(Json(world.sim.spec().clone()))
}

async fn change(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ControlError> {
    let change: FleetChange = parse(&body)?;
    let mut world = state.world();
    world.sim.apply(&change).map_err(|error| match error {
        casim_fleet::FleetError::UnknownInstance { .. } => {
            ControlError(StatusCode::NOT_FOUND, error.to_string())
        }
        _ => bad_request(error.to_string()),
    })?;
    Ok(Json(
        json!({ "applied": change, "at": world.sim.now().to_string() }),
    ))
}

#[derive(Deserialize)]
struct FileQuery {
    path: String,
}

async fn read_file(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(FileQuery { path }): Query<FileQuery>,
) -> Result<Json<Value>, ControlError> {
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
    state.world().sim.pin_ids(pinned.clone());
    Ok(Json(json!({ "pinned": pinned })))
}

#[derive(Deserialize)]
struct LogQuery {
    #[serde(default)]
    since: u64,
}

async fn log(
    State(state): State<AppState>,
    Query(LogQuery { since }): Query<LogQuery>,
) -> Json<Value> {
    let world = state.world();
    let entries: Vec<Value> = world
        .sim
        .log()
        .filter(|entry| entry.seq >= since)
        .map(|entry| json!({ "seq": entry.seq, "at": entry.at.to_string(), "message": entry.message }))
        .collect();
    Json(json!({ "entries": entries }))
}

async fn reset(State(state): State<AppState>) -> Json<Value> {
    let mut world = state.world();
    world.sim.reset();
    let start: Timestamp = world.sim.start();
    world.clock.reset(start);
    Json(clock_view(&world))
}
