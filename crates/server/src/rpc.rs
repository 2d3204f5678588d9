//! The RPC endpoint, `/`: reads the action and its parameters, runs it
//! against the simulation, and answers in the format the caller asked for,
//! success or error, the way the real ECS endpoint does.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use casim_fleet::ApiFaultKind;
use casim_fleet::instance::AgentReport;
use casim_model::response::{
    DescribeCloudAssistantStatusResponse, DescribeSendFileResultsResponse,
    InstanceCloudAssistantStatus, InstanceCloudAssistantStatusSet, Invocation, Invocations,
    SendFileResponse,
};
use casim_model::wire::{ErrorEnvelope, render};
use casim_model::{
    API_VERSION, ApiError, DescribeCloudAssistantStatusRequest, DescribeSendFileResultsRequest,
    Format, Params, RegionId, SendFileRequest,
};

use crate::params;
use crate::signature::{self, SignedRequest};
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
    let reply = Reply {
        state: &state,
        params: &params,
        action: &action,
        format,
    };

    let response = match authenticate(&state, &method, &uri, &headers, &body, &params) {
        Err(error) => reply.error(&error),
        Ok(()) => {
            // Decide the fault under the lock, suffer it outside.
            let fault = state.world().sim.api_fault(&action);
            match fault {
                Some(ApiFaultKind::Drop) => {
                    tracing::info!(action = %action, status = "dropped", "rpc");
                    return dropped_connection();
                }
                Some(ApiFaultKind::Throttle) => {
                    let mut response = reply.error(&ApiError::ThrottlingUser);
                    // Tea Python raises its ThrottlingException only when
                    // the service names a retry delay.
                    response
                        .headers_mut()
                        .insert("x-acs-retry-after", HeaderValue::from_static("1"));
                    response
                }
                Some(ApiFaultKind::InternalError) => reply.error(&ApiError::InternalErrorDispatch),
                Some(ApiFaultKind::Latency { millis }) => {
                    tokio::time::sleep(Duration::from_millis(millis)).await;
                    reply.run(&method, &headers)
                }
                None => reply.run(&method, &headers),
            }
        }
    };

    tracing::info!(
        action = %action,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_millis() as u64,
        "rpc"
    );
    response
}

/// When the server holds access keys: the signature must verify, the
/// request must be fresh by the wall clock, and its nonce new.
fn authenticate(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    params: &Params,
) -> Result<(), ApiError> {
    let Some(keys) = &state.keys else {
        return Ok(());
    };
    let request = SignedRequest::new(method, uri, headers, body, params);
    signature::verify_signature(&request, keys)?;
    let now = signature::wall_now();
    signature::check_freshness(&request, now)?;
    let nonce = signature::signature_nonce(&request)?;
    // Remembered only once the signature holds, so a forger cannot burn a
    // real client's nonce.
    state.nonces().check_and_remember(nonce, now)
}

/// An answer that never comes: the connection closes mid-response, as when
/// a load balancer drops it.
fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected connection drop",
        ))
    });
    Response::new(Body::from_stream(failing))
}

/// What every answer to one request shares.
struct Reply<'a> {
    state: &'a AppState,
    params: &'a Params,
    action: &'a str,
    format: Format,
}

impl Reply<'_> {
    fn run(&self, method: &Method, headers: &HeaderMap) -> Response {
        let mut world = self.state.world();
        match run(
            &mut world.sim,
            method,
            headers,
            self.params,
            self.action,
            self.format,
        ) {
            Ok(body) => self.body(StatusCode::OK, body),
            Err(error) => {
                drop(world);
                self.error(&error)
            }
        }
    }

    fn error(&self, error: &ApiError) -> Response {
        if error.is_server_error() {
            tracing::error!(code = %error.code(), "rpc failed");
        }
        let request_id = self.state.world().sim.next_request_id(self.action);
        let region = self.params.non_empty("RegionId").map(RegionId::from);
        let envelope = ErrorEnvelope::new(error, request_id, region.as_ref());
        let status = StatusCode::from_u16(error.http_status(self.state.era))
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.body(status, envelope.render(self.format))
    }

    fn body(&self, status: StatusCode, body: Vec<u8>) -> Response {
        (
            status,
            [(header::CONTENT_TYPE, self.format.content_type())],
            Body::from(body),
        )
            .into_response()
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
            let (page_number, page_size) = request.paging.reported();
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
        "DescribeCloudAssistantStatus" => {
            let request = DescribeCloudAssistantStatusRequest::from_params(params)?;
            let (page_number, page_size) = request.paging.reported();
            let (reports, total_count, next_token) = sim.cloud_assistant_status(&request)?;
            let response = DescribeCloudAssistantStatusResponse {
                total_count,
                request_id: sim.next_request_id(action),
                page_size,
                page_number,
                next_token,
                instance_cloud_assistant_status_set: InstanceCloudAssistantStatusSet {
                    items: reports.iter().map(agent_status).collect(),
                },
            };
            Ok(render(
                format,
                "DescribeCloudAssistantStatusResponse",
                &response,
            ))
        }
        _ => Err(ApiError::ActionNotFound),
    }
}

/// The wire form of one agent report.
fn agent_status(report: &AgentReport) -> InstanceCloudAssistantStatus {
    let time = |t: Option<casim_model::Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
    InstanceCloudAssistantStatus {
        instance_id: report.instance_id.to_string(),
        cloud_assistant_status: if report.cloud_assistant_status {
            "true"
        } else {
            "false"
        },
        cloud_assistant_version: report.version.clone(),
        active_task_count: report.active_task_count,
        invocation_count: report.invocation_count,
        last_invoked_time: time(report.last_invoked_time),
        last_heartbeat_time: time(report.last_heartbeat_time),
        os_type: report.os_type.as_str(),
        support_session_manager: report.support_session_manager,
    }
}
