//! The RPC endpoint, `/`: reads the action and its parameters, runs it
//! against the simulation, and answers in the format the caller asked for,
//! success or error, the way the real ECS endpoint does.

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use casim_model::response::{
    DescribeSendFileResultsResponse, Invocation, Invocations, SendFileResponse,
};
use casim_model::wire::{ErrorEnvelope, render};
use casim_model::{
    API_VERSION, ApiError, DescribeSendFileResultsRequest, Format, Paging, Params, RegionId,
    SendFileRequest,
};

use crate::params;
use crate::state::AppState;

/// Handles every request to `/`.
pub async fn endpoint(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let params = params::from_request(&uri, &headers, &body);
    let format = Format::negotiate(
        params.raw("Format"),
        headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()),
    );
    let action = params
        .non_empty("Action")
        .or_else(|| headers.get("x-acs-action").and_then(|v| v.to_str().ok()))
        .unwrap_or("")
        .to_owned();

    let (status, body) = answer(&state, &method, &headers, &params, &action, format);

    tracing::info!(
        action = %action,
        status = status.as_u16(),
        latency_ms = started.elapsed().as_millis() as u64,
        "rpc"
    );
    (
        status,
        [(header::CONTENT_TYPE, format.content_type())],
        Body::from(body),
    )
        .into_response()
}

fn answer(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    params: &Params,
    action: &str,
    format: Format,
) -> (StatusCode, Vec<u8>) {
    let mut world = state.world();
    match run(&mut world.sim, method, headers, params, action, format) {
        Ok(body) => (StatusCode::OK, body),
        Err(error) => {
            if error.is_server_error() {
                tracing::error!(code = %error.code(), "rpc failed");
            }
            let request_id = world.sim.next_request_id(action);
            let region = params.non_empty("RegionId").map(RegionId::from);
            let envelope = ErrorEnvelope::new(&error, request_id, region.as_ref());
            let status = StatusCode::from_u16(error.http_status(state.era))
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, envelope.render(format))
        }
    }
}

fn run(
    sim: &mut casim_fleet::Simulation,
    method: &Method,
    headers: &HeaderMap,
    params: &Params,
    action: &str,
    format: Format,
) -> Result<Vec<u8>, ApiError> {
    if method != Method::GET && method != Method::POST {
        return Err(ApiError::UnsupportedHttpMethod);
    }
    if action.is_empty() {
        return Err(ApiError::MissingParameter { name: "Action" });
    }
    let version = params
        .non_empty("Version")
        .or_else(|| headers.get("x-acs-version").and_then(|v| v.to_str().ok()));
    match version {
        None => return Err(ApiError::MissingParameter { name: "Version" }),
        Some(API_VERSION) => {}
        Some(_) => return Err(ApiError::InvalidVersion),
    }

    match action {
        "SendFile" => {
            let request = SendFileRequest::from_params(params)?;
            let invoke_id = sim.send_file(request)?;
            let response = SendFileResponse {
                request_id: sim.next_request_id(action),
                invoke_id,
            };
            Ok(render(format, "SendFileResponse", &response))
        }
        "DescribeSendFileResults" => {
            let request = DescribeSendFileResultsRequest::from_params(params)?;
            let (page_number, page_size) = match request.paging {
                Paging::Pages { number, size } => (number, size),
                Paging::Token { max_results, .. } => (1, max_results),
            };
            let page = sim.describe(&request)?;
            let items: Vec<Invocation> =
                page.records.iter().map(|r| Invocation::from(*r)).collect();
            let (total_count, next_token) = (page.total_count, page.next_token);
            let response = DescribeSendFileResultsResponse {
                total_count,
                request_id: sim.next_request_id(action),
                page_size,
                page_number,
                next_token,
                invocations: Invocations { items },
            };
            Ok(render(format, "DescribeSendFileResultsResponse", &response))
        }
        _ => Err(ApiError::ActionNotFound),
    }
}
