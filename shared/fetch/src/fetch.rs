//! SSRF-safe fetching of user-submitted URLs ("URL import").
//!
//! The worker fetches URLs that users typed, from inside our network, so a URL must never reach
//! loopback, private, link-local or cloud-metadata addresses. The rules:
//! - only `http` and `https`, no credentials in the URL, no ports browsers refuse;
//! - we resolve the host ourselves and refuse it if *any* resolved address is forbidden (an
//!   attacker's DNS can answer with a public and a private address at once);
//! - reqwest is pinned to the addresses we checked (`resolve_to_addrs`), so a second DNS answer
//!   cannot swap in another address between check and connect (DNS rebinding);
//! - redirects are followed by hand and every hop is checked again, scheme and address;
//! - the body is capped while streaming, and the whole fetch (DNS, redirects, body) has one
//!   deadline.
//!
//! `FetchPolicy::allow_hosts` lets listed `host[:port]` values skip the address check, for tests
//! and local runs against a server on loopback; nothing else does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use tokio::time::Instant;
use url::{Host, Url};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;
const DEFAULT_MAX_REDIRECTS: u32 = 5;
const DEFAULT_USER_AGENT: &str = concat!(
    "recorder-connectors/",
    env!("CARGO_PKG_VERSION"),
    " (URL import)"
);

/// Limits and allowances for one fetch. Read once at cold start with [`FetchPolicy::from_lookup`]
/// (see `settings.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Deadline for the whole fetch: DNS, every redirect hop and the body.
    pub timeout: Duration,
    /// Largest body accepted, checked against Content-Length and while streaming.
    pub max_bytes: u64,
    /// Redirects followed before giving up.
    pub max_redirects: u32,
    pub user_agent: String,
    /// `host` or `host:port` values (as the URL spells them after normalisation, e.g.
    /// `127.0.0.1:8080`, `[::1]:3000`, `localhost`) that may be loopback or private. Empty in
    /// production; for tests and local runs only. A host without a port matches every port.
    pub allow_hosts: Vec<String>,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            max_bytes: DEFAULT_MAX_BYTES,
            max_redirects: DEFAULT_MAX_REDIRECTS,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            allow_hosts: Vec::new(),
        }
    }
}

impl FetchPolicy {
    /// Whether `url`'s host (and port) is on the allowlist.
    fn allows(&self, url: &Url) -> bool {
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return false;
        };
        let with_port = format!("{host}:{port}");
        self.allow_hosts
            .iter()
            .any(|entry| entry.eq_ignore_ascii_case(host) || entry.eq_ignore_ascii_case(&with_port))
    }
}

/// A fetched page: always a 2xx answer, at most `max_bytes` long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The URL the body came from, after redirects.
    pub final_url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
    /// Every redirect target followed, in order (empty when there was none).
    pub redirects: Vec<String>,
}

/// Why a URL was not imported. `Display` is meant for the person who submitted it.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("this is not a valid web address: {reason}")]
    InvalidUrl {
        reason: String,
        #[source]
        source: Option<url::ParseError>,
    },
    #[error("only http:// and https:// addresses can be imported, not {scheme}:")]
    UnsupportedScheme { scheme: String },
    #[error("this address cannot be imported: {reason}")]
    Forbidden { reason: String },
    #[error("the page redirects too many times (more than {limit})")]
    TooManyRedirects { limit: u32 },
    #[error("the page is too large to import (the limit is {limit} bytes)")]
    TooLarge { limit: u64 },
    #[error("the site did not answer in time (after {} s)", after.as_secs_f32())]
    Timeout { after: Duration },
    #[error("the site answered with HTTP status {status}")]
    Http { status: u16 },
    #[error("the host name {host} could not be found")]
    Dns {
        host: String,
        #[source]
        source: Option<std::io::Error>,
    },
    #[error("the site could not be reached")]
    Network {
        #[source]
        source: reqwest::Error,
    },
}

impl FetchError {
    /// A stable machine code for API error bodies (`{"error":{"code":…}}`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } => "invalid_url",
            Self::UnsupportedScheme { .. } => "unsupported_scheme",
            Self::Forbidden { .. } => "forbidden_address",
            Self::TooManyRedirects { .. } => "too_many_redirects",
            Self::TooLarge { .. } => "too_large",
            Self::Timeout { .. } => "timeout",
            Self::Http { .. } => "http_error",
            Self::Dns { .. } => "dns_error",
            Self::Network { .. } => "network_error",
        }
    }

    fn invalid(reason: impl Into<String>) -> Self {
        Self::InvalidUrl {
            reason: reason.into(),
            source: None,
        }
    }

    fn forbidden(reason: impl Into<String>) -> Self {
        Self::Forbidden {
            reason: reason.into(),
        }
    }
}

/// A URL as it may be shown in a reason or a log: scheme, host, port and path only. Queries,
/// fragments and user info often carry tokens (signed links, session ids) and are left out.
pub fn display_url(url: &str) -> String {
    match Url::parse(url.trim()) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("");
            match u.port() {
                Some(port) => format!("{}://{host}:{port}{}", u.scheme(), u.path()),
                None => format!("{}://{host}{}", u.scheme(), u.path()),
            }
        }
        // Unparsable: cut at the first character that may start a query or fragment.
        Err(_) => url
            .split(['?', '#'])
            .next()
            .unwrap_or("")
            .rsplit('@')
            .next()
            .unwrap_or("")
            .chars()
            .take(200)
            .collect(),
    }
}

/// Ports the Fetch standard ("bad ports") refuses: mail, FTP, IRC, SIP and other non-HTTP
/// services a crafted request could talk to. <https://fetch.spec.whatwg.org/#port-blocking>
const BAD_PORTS: &[u16] = &[
    1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102,
    103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465,
    512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993,
    995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668,
    6669, 6679, 6697, 10080,
];

/// Syntax checks that need no DNS: parses (the `url` crate normalises decimal, octal, hex and
/// short IPv4 hosts such as `2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1` to dotted quads, and
/// lowercases names), then requires http/https, a host, no user or password, and a sane port.
/// Addresses are checked by [`fetch`], which knows the allowlist.
pub fn check_url(url: &str) -> Result<Url, FetchError> {
    let parsed = Url::parse(url.trim()).map_err(|e| FetchError::InvalidUrl {
        reason: e.to_string(),
        source: Some(e),
    })?;
    match parsed.scheme() {
        "http" | "https" => {}
        other => {
            return Err(FetchError::UnsupportedScheme {
                scheme: other.to_owned(),
            });
        }
    }
    if parsed.host().is_none() {
        return Err(FetchError::invalid("it has no host name"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(FetchError::forbidden(
            "it contains a user name or password; remove the part before @",
        ));
    }
    match parsed.port() {
        Some(0) => return Err(FetchError::invalid("port 0 is not a valid port")),
        Some(port) if BAD_PORTS.contains(&port) => {
            return Err(FetchError::forbidden(format!(
                "port {port} is reserved for a service other than the web"
            )));
        }
        _ => {}
    }
    Ok(parsed)
}

/// The class of address `ip` belongs to when it must not be fetched (e.g. "a private address"),
/// or `None` for a public address. IPv6 forms that embed an IPv4 address (mapped, compatible,
/// NAT64, 6to4) are judged by the embedded address.
pub fn is_forbidden_ip(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

/// Whether `ip` lies in `net/len`.
fn in_v4(ip: u32, net: [u8; 4], len: u32) -> bool {
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    ip & mask == u32::from_be_bytes(net) & mask
}

fn in_v6(ip: u128, net: u128, len: u32) -> bool {
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - len)
    };
    ip & mask == net & mask
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let n = u32::from(ip);
    // Order matters where ranges nest: metadata inside link-local, broadcast inside 240/4.
    let table: &[([u8; 4], u32, &'static str)] = &[
        ([169, 254, 169, 254], 32, "a cloud metadata address"),
        // Azure's WireServer: a public-looking address only reachable from inside the cloud.
        ([168, 63, 129, 16], 32, "a cloud metadata address"),
        ([255, 255, 255, 255], 32, "the broadcast address"),
        ([0, 0, 0, 0], 8, "an unspecified (\"this network\") address"),
        ([10, 0, 0, 0], 8, "a private address"),
        ([100, 64, 0, 0], 10, "a shared (carrier-grade NAT) address"),
        ([127, 0, 0, 0], 8, "a loopback address"),
        ([169, 254, 0, 0], 16, "a link-local address"),
        ([172, 16, 0, 0], 12, "a private address"),
        ([192, 0, 0, 0], 24, "an IETF protocol assignment address"),
        ([192, 0, 2, 0], 24, "a documentation address"),
        ([192, 88, 99, 0], 24, "a reserved (6to4 relay) address"),
        ([192, 168, 0, 0], 16, "a private address"),
        ([198, 18, 0, 0], 15, "a benchmarking address"),
        ([198, 51, 100, 0], 24, "a documentation address"),
        ([203, 0, 113, 0], 24, "a documentation address"),
        ([224, 0, 0, 0], 4, "a multicast address"),
        ([240, 0, 0, 0], 4, "a reserved address"),
    ];
    table
        .iter()
        .find(|(net, len, _)| in_v4(n, *net, *len))
        .map(|(_, _, reason)| *reason)
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let n = u128::from(ip);
    let low_v4 = Ipv4Addr::from(n as u32);
    if n == 0 {
        return Some("an unspecified address");
    }
    if n == 1 {
        return Some("a loopback address");
    }
    if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254) {
        return Some("a cloud metadata address");
    }
    // Forms that carry an IPv4 address: the host behind them is what would be reached.
    if in_v6(n, 0xffff << 32, 96) // ::ffff:a.b.c.d, IPv4-mapped
        || in_v6(n, 0xffff << 48, 96) // ::ffff:0:a.b.c.d, IPv4-translated (SIIT)
        || in_v6(n, 0, 96) // ::a.b.c.d, IPv4-compatible (deprecated)
        || in_v6(n, 0x0064_ff9b << 96, 96)
    // 64:ff9b::a.b.c.d, NAT64 well-known prefix
    {
        return forbidden_v4(low_v4);
    }
    if in_v6(n, 0x2002 << 112, 16) {
        // 6to4: 2002:AABB:CCDD::/48 tunnels to AA.BB.CC.DD.
        return forbidden_v4(Ipv4Addr::from((n >> 80) as u32));
    }
    let table: &[(u128, u32, &'static str)] = &[
        (0x0064_ff9b_0001 << 80, 48, "a local-use NAT64 address"),
        (0x0100 << 112, 64, "a reserved (discard) address"),
        // Teredo embeds an obfuscated client address; nothing legitimate needs it any more.
        (0x2001_0000 << 96, 32, "a Teredo tunnel address"),
        (0x2001_0002 << 96, 48, "a benchmarking address"),
        (0x2001_0db8 << 96, 32, "a documentation address"),
        (0x3fff << 112, 20, "a documentation address"),
        (0xfc00 << 112, 7, "a private (unique local) address"),
        (0xfe80 << 112, 10, "a link-local address"),
        (0xfec0 << 112, 10, "a private (site-local) address"),
        (0xff00 << 112, 8, "a multicast address"),
    ];
    table
        .iter()
        .find(|(net, len, _)| in_v6(n, *net, *len))
        .map(|(_, _, reason)| *reason)
}

/// `localhost`, `*.localhost` and their trailing-dot forms never leave the machine (RFC 6761);
/// refused by name so no DNS query is even sent.
fn is_localhost_name(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    host == "localhost" || host.ends_with(".localhost")
}

/// Fetches `url` under `policy`: see the module notes for the rules.
pub async fn fetch(url: &str, policy: &FetchPolicy) -> Result<Fetched, FetchError> {
    let start = check_url(url)?;
    let deadline = Instant::now() + policy.timeout;
    match tokio::time::timeout_at(deadline, fetch_checked(start, policy)).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Timeout {
            after: policy.timeout,
        }),
    }
}

async fn fetch_checked(start: Url, policy: &FetchPolicy) -> Result<Fetched, FetchError> {
    let mut current = start;
    let mut redirects = Vec::new();
    loop {
        let addrs = checked_addrs(&current, policy).await?;
        let response = send(&current, &addrs, policy).await?;
        let status = response.status();

        if status.is_redirection()
            && let Some(location) = response.headers().get(LOCATION)
        {
            if redirects.len() as u32 >= policy.max_redirects {
                return Err(FetchError::TooManyRedirects {
                    limit: policy.max_redirects,
                });
            }
            let location = location
                .to_str()
                .map_err(|_| FetchError::invalid("the site redirected to an unreadable address"))?;
            // Relative Locations are resolved against the URL that answered.
            let next = current.join(location).map_err(|e| FetchError::InvalidUrl {
                reason: format!("the site redirected to an invalid address ({e})"),
                source: Some(e),
            })?;
            let next = check_url(next.as_str())?;
            // Hosts only: paths and queries of user URLs can carry tokens.
            tracing::debug!(
                from = current.host_str(),
                to = next.host_str(),
                "following a redirect"
            );
            redirects.push(next.to_string());
            current = next;
            continue;
        }
        if !status.is_success() {
            return Err(FetchError::Http {
                status: status.as_u16(),
            });
        }
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = read_capped(response, policy.max_bytes).await?;
        return Ok(Fetched {
            final_url: current.to_string(),
            status: status.as_u16(),
            content_type,
            bytes,
            redirects,
        });
    }
}

/// The socket addresses to connect to for `url`, each one checked (unless the host is
/// allowlisted). Literal IP hosts are checked as they are; names are resolved here, once.
async fn checked_addrs(url: &Url, policy: &FetchPolicy) -> Result<Vec<SocketAddr>, FetchError> {
    let port = url
        .port_or_known_default()
        .ok_or_else(|| FetchError::invalid("it has no port"))?;
    let allowed = policy.allows(url);
    let addrs: Vec<SocketAddr> = match url.host() {
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(ip.into(), port)],
        Some(Host::Domain(name)) => {
            if is_localhost_name(name) && !allowed {
                return Err(FetchError::forbidden(format!(
                    "{name} is this machine (a loopback name)"
                )));
            }
            let found = tokio::net::lookup_host((name, port))
                .await
                .map_err(|e| FetchError::Dns {
                    host: name.to_owned(),
                    source: Some(e),
                })?
                .collect::<Vec<_>>();
            if found.is_empty() {
                return Err(FetchError::Dns {
                    host: name.to_owned(),
                    source: None,
                });
            }
            found
        }
        None => return Err(FetchError::invalid("it has no host name")),
    };
    if !allowed {
        refuse_forbidden(url, &addrs)?;
    }
    Ok(addrs)
}

/// Refuses `url` if any of the addresses its host resolved to is forbidden: one bad answer
/// among good ones is enough, as the connection could go to any of them.
fn refuse_forbidden(url: &Url, addrs: &[SocketAddr]) -> Result<(), FetchError> {
    for addr in addrs {
        if let Some(class) = is_forbidden_ip(addr.ip()) {
            let host = url.host_str().unwrap_or_default();
            let reason = if matches!(url.host(), Some(Host::Domain(_))) {
                format!("{host} resolves to {class} ({})", addr.ip())
            } else {
                format!("{host} is {class}")
            };
            return Err(FetchError::forbidden(reason));
        }
    }
    Ok(())
}

/// Sends one GET with a client pinned to `addrs`: no redirects, no proxy (a proxy would resolve
/// the name again, out of our sight).
async fn send(
    url: &Url,
    addrs: &[SocketAddr],
    policy: &FetchPolicy,
) -> Result<reqwest::Response, FetchError> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(policy.user_agent.as_str());
    if let Some(Host::Domain(name)) = url.host() {
        builder = builder.resolve_to_addrs(name, addrs);
    }
    let client = builder
        .build()
        .map_err(|source| FetchError::Network { source })?;
    client
        .get(url.clone())
        .send()
        .await
        .map_err(|source| FetchError::Network { source })
}

/// Reads the body, refusing it as soon as it is known to exceed `max_bytes`: from
/// Content-Length before reading, or while streaming when the length is not announced (or lies).
async fn read_capped(
    mut response: reqwest::Response,
    max_bytes: u64,
) -> Result<Vec<u8>, FetchError> {
    let too_large = || FetchError::TooLarge { limit: max_bytes };
    let announced = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|len| len > max_bytes) {
        return Err(too_large());
    }
    // Never pre-allocate more than the cap, whatever the header says.
    let mut body = Vec::with_capacity(announced.unwrap_or(0).min(max_bytes).min(1 << 20) as usize);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|source| FetchError::Network { source })?
    {
        if body.len() as u64 + chunk.len() as u64 > max_bytes {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_shown_in_a_reason_keeps_scheme_host_and_path_only() {
        assert_eq!(
            display_url("https://user:pw@Example.com:8443/a/b.pdf?X-Amz-Signature=s3cr3t#frag"),
            "https://example.com:8443/a/b.pdf"
        );
        assert_eq!(
            display_url("http://example.com?token=t"),
            "http://example.com/"
        );
        assert_eq!(display_url("not a url?token=t"), "not a url");
    }

    #[test]
    fn the_url_crate_normalises_numeric_ipv4_hosts_to_dotted_quads() {
        for raw in [
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0177.0.0.1/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://127.0.1/",
            "http://0177.0.0.01/",
        ] {
            let url = check_url(raw).unwrap();
            assert_eq!(
                url.host(),
                Some(Host::Ipv4(Ipv4Addr::new(127, 0, 0, 1))),
                "{raw}"
            );
        }
    }

    #[test]
    fn forbidden_addresses_are_named_by_class() {
        let cases: &[(&str, Option<&str>)] = &[
            ("127.0.0.1", Some("a loopback address")),
            ("127.255.255.254", Some("a loopback address")),
            ("10.0.0.5", Some("a private address")),
            ("172.31.255.255", Some("a private address")),
            ("192.168.1.1", Some("a private address")),
            ("169.254.169.254", Some("a cloud metadata address")),
            ("169.254.1.1", Some("a link-local address")),
            ("100.64.0.1", Some("a shared (carrier-grade NAT) address")),
            ("0.0.0.0", Some("an unspecified (\"this network\") address")),
            ("255.255.255.255", Some("the broadcast address")),
            ("224.0.0.1", Some("a multicast address")),
            ("192.0.0.8", Some("an IETF protocol assignment address")),
            ("192.0.2.1", Some("a documentation address")),
            ("198.18.0.1", Some("a benchmarking address")),
            ("::1", Some("a loopback address")),
            ("::", Some("an unspecified address")),
            ("::ffff:127.0.0.1", Some("a loopback address")),
            ("::ffff:10.1.2.3", Some("a private address")),
            ("::ffff:0:7f00:1", Some("a loopback address")),
            ("::127.0.0.1", Some("a loopback address")),
            ("64:ff9b::a9fe:a9fe", Some("a cloud metadata address")),
            ("2002:c0a8:0101::1", Some("a private address")),
            ("fd00:ec2::254", Some("a cloud metadata address")),
            ("fc00::1", Some("a private (unique local) address")),
            ("fe80::1", Some("a link-local address")),
            ("ff02::1", Some("a multicast address")),
            ("2001:db8::1", Some("a documentation address")),
            ("2001:0:4136:e378::1", Some("a Teredo tunnel address")),
            // Public addresses, including the embedding forms of public IPv4 addresses.
            ("8.8.8.8", None),
            ("172.32.0.1", None),
            ("100.128.0.1", None),
            ("1.1.1.1", None),
            ("2606:4700:4700::1111", None),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::808:808", None),
            ("2002:0808:0808::1", None),
        ];
        for (ip, expected) in cases {
            let ip: IpAddr = ip.parse().unwrap();
            assert_eq!(is_forbidden_ip(ip), *expected, "{ip}");
        }
    }

    #[test]
    fn a_name_is_refused_when_any_of_its_addresses_is_private() {
        let url = Url::parse("https://example.com/").unwrap();
        let public: SocketAddr = "93.184.215.14:443".parse().unwrap();
        let private: SocketAddr = "10.0.0.5:443".parse().unwrap();
        assert!(refuse_forbidden(&url, &[public]).is_ok());
        let err = refuse_forbidden(&url, &[public, private]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "this address cannot be imported: example.com resolves to a private address (10.0.0.5)"
        );
    }

    #[test]
    fn the_allowlist_matches_host_or_host_and_port_only() {
        let policy = FetchPolicy {
            allow_hosts: vec![
                "127.0.0.1:8080".into(),
                "localhost".into(),
                "[::1]:3000".into(),
            ],
            ..FetchPolicy::default()
        };
        let allows = |u: &str| policy.allows(&Url::parse(u).unwrap());
        assert!(allows("http://127.0.0.1:8080/x"));
        assert!(!allows("http://127.0.0.1:8081/x"));
        assert!(!allows("http://127.0.0.1/x"));
        assert!(allows("http://localhost:9999/"));
        assert!(allows("http://[::1]:3000/"));
        assert!(!allows("http://[::1]:3001/"));
        assert!(!allows("http://127.0.0.2:8080/"));
    }
}
