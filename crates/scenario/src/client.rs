//! The runner's HTTP client: the RPC endpoint as an SDK calls it (`POST /`
//! with every parameter in the query string) and the JSON control API under
//! `/_casim/`. It talks only to the loopback address the server was bound
//! to, and never through a proxy.

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;

/// Long enough for any in-process call; short enough that a hung server
/// fails a test instead of stalling it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
}

/// An answer, whatever its status.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The fields of the error envelope the runner reads (JSON form).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ErrorBody {
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Result<Client, reqwest::Error> {
        // `no_proxy`: an HTTP_PROXY in the environment must never carry
        // loopback traffic elsewhere.
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(REQUEST_TIMEOUT)
            .build()?;
        Ok(Client {
            http,
            base: format!("http://{addr}"),
        })
    }

    /// One RPC call: `POST /?Action=…&…` with an empty body.
    pub async fn rpc(&self, params: &[(String, String)]) -> Result<Reply, reqwest::Error> {
        let request = self.http.post(format!("{}/", self.base)).query(params);
        reply(request).await
    }

    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Reply, reqwest::Error> {
        reply(self.http.get(format!("{}{path}", self.base)).query(query)).await
    }

    pub async fn delete(&self, path: &str) -> Result<Reply, reqwest::Error> {
        reply(self.http.delete(format!("{}{path}", self.base))).await
    }

    pub async fn post_json(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<Reply, reqwest::Error> {
        reply(self.http.post(format!("{}{path}", self.base)).json(body)).await
    }
}

async fn reply(request: reqwest::RequestBuilder) -> Result<Reply, reqwest::Error> {
    let response = request.send().await?;
    let status = response.status().as_u16();
    let body = response.text().await?;
    Ok(Reply { status, body })
}
