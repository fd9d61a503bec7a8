//! The server under test and the HTTP calls that prepare a run: users, conversations,
//! members. Only a server on this machine is accepted: palaver-bench opens thousands of
//! sockets and registers hundreds of users, which nobody should point at a real service.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::{json, Value};

/// The password of every user palaver-bench registers (8–128 characters are allowed).
const PASSWORD: &str = "palaver-bench-password";

/// Member names sent with `POST /api/conversations`; the rest are added one by one so the
/// body stays well under the server's 64 KiB limit.
const MEMBERS_PER_CREATE: usize = 1000;

/// A palaver server on loopback.
pub struct Target {
    /// Where it listens.
    pub addr: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// A registered user.
#[derive(Debug, Clone)]
pub struct User {
    /// The login name.
    pub name: String,
    /// The bearer token from registration.
    pub token: String,
}

impl Target {
    /// Parses `url` and refuses any host but `127.0.0.1`, `localhost` or `::1`.
    pub fn parse(url: &str) -> Result<Target> {
        let parsed = url::Url::parse(url).with_context(|| format!("--url {url:?}"))?;
        if parsed.scheme() != "http" {
            bail!("--url {url:?}: only http:// is supported (the server under test is local)");
        }
        let ip = match parsed.host() {
            Some(url::Host::Ipv4(ip)) if ip == Ipv4Addr::LOCALHOST => IpAddr::V4(ip),
            Some(url::Host::Ipv6(ip)) if ip == Ipv6Addr::LOCALHOST => IpAddr::V6(ip),
            Some(url::Host::Domain("localhost")) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            _ => bail!(
                "--url {url:?}: the host must be 127.0.0.1, localhost or [::1]; palaver-bench only loads a server on this machine"
            ),
        };
        let port = parsed
            .port_or_known_default()
            .with_context(|| format!("--url {url:?} has no port"))?;
        if parsed.path() != "/" && !parsed.path().is_empty() {
            bail!("--url {url:?}: give the server's root, without a path");
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Target {
            addr: SocketAddr::new(ip, port),
            client,
        })
    }

    /// One JSON call; any status but `expect` is an error that quotes the body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        expect: StatusCode,
    ) -> Result<Value> {
        let uri = format!("http://{}{path}", self.addr);
        let mut request = Request::builder().method(method.clone()).uri(&uri);
        if let Some(token) = token {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let payload = match body {
            Some(body) => {
                request = request.header(CONTENT_TYPE, "application/json");
                Bytes::from(serde_json::to_vec(body).context("encoding the request body")?)
            }
            None => Bytes::new(),
        };
        let request = request
            .body(Full::new(payload))
            .with_context(|| format!("building {method} {path}"))?;
        let response = self
            .client
            .request(request)
            .await
            .with_context(|| format!("{method} {uri}"))?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .with_context(|| format!("reading the answer to {method} {path}"))?
            .to_bytes();
        if status != expect {
            let text = String::from_utf8_lossy(&bytes);
            bail!("{method} {path}: {status} (expected {expect}): {text}");
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{method} {path}: the answer is not JSON"))
    }

    /// `GET /health/live`: whether the server answers at all, for a clear first error.
    pub async fn check_live(&self) -> Result<()> {
        self.call(Method::GET, "/health/live", None, None, StatusCode::OK)
            .await
            .map(drop)
            .with_context(|| format!("the server at {} is not live", self.addr))
    }

    /// `POST /api/auth/register`.
    pub async fn register(&self, name: &str) -> Result<User> {
        #[derive(Deserialize)]
        struct Registered {
            token: String,
        }
        let answer = self
            .call(
                Method::POST,
                "/api/auth/register",
                None,
                Some(&json!({"username": name, "password": PASSWORD})),
                StatusCode::CREATED,
            )
            .await?;
        let registered: Registered = serde_json::from_value(answer)
            .context("POST /api/auth/register: no token in the answer")?;
        Ok(User {
            name: name.to_string(),
            token: registered.token,
        })
    }

    /// `POST /api/conversations` by `owner` with `members`, then
    /// `POST /api/conversations/{id}/members` for any that did not fit in the first body.
    pub async fn create_conversation(
        &self,
        owner: &User,
        title: &str,
        members: &[&str],
    ) -> Result<i64> {
        #[derive(Deserialize)]
        struct Created {
            conversation: Identified,
        }
        #[derive(Deserialize)]
        struct Identified {
            id: i64,
        }
        let (first, rest) = members.split_at(members.len().min(MEMBERS_PER_CREATE));
        let answer = self
            .call(
                Method::POST,
                "/api/conversations",
                Some(&owner.token),
                Some(&json!({"title": title, "members": first})),
                StatusCode::CREATED,
            )
            .await?;
        let created: Created = serde_json::from_value(answer)
            .context("POST /api/conversations: no conversation.id in the answer")?;
        let id = created.conversation.id;
        for name in rest {
            self.call(
                Method::POST,
                &format!("/api/conversations/{id}/members"),
                Some(&owner.token),
                Some(&json!({"username": name})),
                StatusCode::CREATED,
            )
            .await?;
        }
        Ok(id)
    }
}

/// A prefix for this run's usernames, so runs against the same database never collide:
/// `pb`, the scenario's letter and the low 32 bits of the clock in ms, in hex.
pub fn run_prefix(scenario: char) -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    format!("pb{scenario}{:08x}", millis as u32)
}

/// Registers `count` users named `PREFIX-i`, `concurrency` at a time (each costs the
/// server an argon2 hash), in index order.
pub async fn register_users(
    target: &Target,
    prefix: &str,
    count: usize,
    concurrency: usize,
) -> Result<Vec<User>> {
    let done = AtomicUsize::new(0);
    let step = (count / 10).max(1);
    let users: Vec<User> = futures_util::stream::iter(0..count)
        .map(|i| {
            let done = &done;
            async move {
                let user = target
                    .register(&format!("{prefix}-{i}"))
                    .await
                    .with_context(|| format!("registering user {i}"))?;
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                if finished.is_multiple_of(step) || finished == count {
                    eprintln!("registered {finished}/{count} users");
                }
                Ok::<User, anyhow::Error>(user)
            }
        })
        .buffered(concurrency.max(1))
        .try_collect()
        .await?;
    Ok(users)
}

/// Creates one conversation per entry of `rooms` (user indices, the first one owns it),
/// `concurrency` at a time; answers their ids in the same order.
pub async fn create_conversations(
    target: &Target,
    users: &[User],
    rooms: &[Vec<usize>],
    concurrency: usize,
) -> Result<Vec<i64>> {
    let done = AtomicUsize::new(0);
    let count = rooms.len();
    let step = (count / 10).max(1);
    futures_util::stream::iter(rooms.iter().enumerate())
        .map(|(r, members)| {
            let done = &done;
            async move {
                let (&owner, others) = members
                    .split_first()
                    .ok_or_else(|| anyhow!("conversation {r} has no members"))?;
                let names: Vec<&str> = others.iter().map(|&u| users[u].name.as_str()).collect();
                let id = target
                    .create_conversation(&users[owner], &format!("bench {r}"), &names)
                    .await
                    .with_context(|| format!("creating conversation {r}"))?;
                let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                if finished.is_multiple_of(step) || finished == count {
                    eprintln!("created {finished}/{count} conversations");
                }
                Ok::<i64, anyhow::Error>(id)
            }
        })
        .buffered(concurrency.max(1))
        .try_collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_accepted() {
        for url in [
            "http://127.0.0.1:8080",
            "http://localhost:8080/",
            "http://[::1]:9000",
            "http://127.0.0.1",
        ] {
            assert!(Target::parse(url).is_ok(), "{url}");
        }
        assert_eq!(
            Target::parse("http://[::1]:9000").map(|t| t.addr).ok(),
            Some("[::1]:9000".parse().unwrap())
        );
        for url in [
            "http://10.0.0.1:8080",
            "http://127.0.0.2:8080",
            "http://example.com",
            "http://localhost.example.com:80",
            "https://127.0.0.1:8443",
            "ws://127.0.0.1:8080",
            "http://127.0.0.1:8080/api",
            "not a url",
        ] {
            assert!(Target::parse(url).is_err(), "{url}");
        }
    }

    #[test]
    fn run_prefixes_make_valid_usernames() {
        let name = format!("{}-{}", run_prefix('c'), 99_999);
        assert!(name.len() <= 32);
        assert!(name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c)));
    }
}
