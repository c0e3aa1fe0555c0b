//! Which datagram to send to which UDP port: `payloads/udp.toml`.
//!
//! A UDP port that is open but gets a datagram its service does not understand stays
//! silent, and silence reads as `open|filtered`. So a scan sends, per port, a request
//! the usual service there must answer. Each `[[payload]]` gives its bytes one way:
//!
//! ```toml
//! [[payload]]
//! name = "ssdp-msearch"
//! ports = [1900]
//! text = 'M-SEARCH * HTTP/1.1\r\n...'    # backslash escapes: \r \n \t \0 \xNN
//!
//! [[payload]]
//! name = "mssql-browser"
//! ports = [1434]
//! hex = "03"                             # spaces allowed between bytes
//!
//! [[payload]]
//! name = "dns-version-bind"
//! ports = [53]
//! builder = "dns-version-bind"           # built per probe (ids vary), see `build`
//! ```
//!
//! A port may have several payloads: the first in file order is the one the scan
//! sends; the others are for service detection. One payload may be marked
//! `default = true`: it goes to every port without one of its own (ours is the empty
//! datagram). Every payload in this file was written from the protocol's RFC or
//! public documentation; none comes from nmap.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;

use serde::Deserialize;

use super::build::{self, Builder, Context};
use crate::error::ProbeError;

const BUILTIN: &str = include_str!("../../payloads/udp.toml");

/// How a payload's bytes are made.
#[derive(Debug, Clone)]
pub enum Bytes {
    /// The same bytes every time.
    Fixed(Vec<u8>),
    /// Built per probe by a named builder.
    Built { builder: String, build: Builder },
}

/// One UDP payload.
#[derive(Debug, Clone)]
pub struct Payload {
    pub name: String,
    pub ports: Vec<u16>,
    pub bytes: Bytes,
}

impl Payload {
    /// The datagram for one probe.
    pub fn bytes(&self, cx: &Context) -> Vec<u8> {
        match &self.bytes {
            Bytes::Fixed(b) => b.clone(),
            Bytes::Built { build, .. } => build(cx),
        }
    }
}

/// The loaded payload table.
#[derive(Debug, Clone, Default)]
pub struct UdpPayloads {
    payloads: Vec<Payload>,
    by_port: HashMap<u16, Vec<usize>>,
    default: Option<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileModel {
    #[serde(default)]
    payload: Vec<PayloadModel>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PayloadModel {
    name: String,
    #[serde(default)]
    ports: Vec<u16>,
    hex: Option<String>,
    text: Option<String>,
    builder: Option<String>,
    #[serde(default)]
    default: bool,
}

impl UdpPayloads {
    /// The table compiled into the binary.
    pub fn builtin() -> Result<Self, ProbeError> {
        Self::from_toml("udp.toml", BUILTIN)
    }

    /// Parses one file; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, ProbeError> {
        let model: FileModel = toml::from_str(text).map_err(|e| ProbeError::Toml {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let mut table = UdpPayloads::default();
        let mut names = HashSet::new();
        for p in model.payload {
            let err = |message: String| ProbeError::UdpPayload {
                file: file.to_string(),
                payload: p.name.clone(),
                message,
            };
            if !names.insert(p.name.clone()) {
                return Err(err("defined twice".into()));
            }
            if p.ports.contains(&0) {
                return Err(err("port 0 cannot be scanned".into()));
            }
            if p.ports.is_empty() && !p.default {
                return Err(err("needs `ports` or `default = true`".into()));
            }
            let bytes = match (p.hex.as_deref(), p.text.as_deref(), p.builder.as_deref()) {
                (Some(h), None, None) => Bytes::Fixed(parse_hex(h).map_err(err)?),
                (None, Some(t), None) => {
                    Bytes::Fixed(portolan_talk::unescape(t).map_err(|e| err(e.to_string()))?)
                }
                (None, None, Some(b)) => Bytes::Built {
                    builder: b.to_string(),
                    build: build::builder(b).ok_or_else(|| {
                        let known: Vec<&str> = build::BUILDERS.iter().map(|(n, _)| *n).collect();
                        err(format!(
                            "unknown builder {b:?} (known: {})",
                            known.join(", ")
                        ))
                    })?,
                },
                _ => return Err(err("needs exactly one of `hex`, `text` or `builder`".into())),
            };
            let index = table.payloads.len();
            if p.default {
                if table.default.is_some() {
                    return Err(err("a second `default = true` payload".into()));
                }
                table.default = Some(index);
            }
            for port in &p.ports {
                table.by_port.entry(*port).or_default().push(index);
            }
            table.payloads.push(Payload {
                name: p.name,
                ports: p.ports,
                bytes,
            });
        }
        Ok(table)
    }

    /// Every payload, in file order.
    pub fn all(&self) -> &[Payload] {
        &self.payloads
    }

    /// The payload called `name`.
    pub fn get(&self, name: &str) -> Option<&Payload> {
        self.payloads.iter().find(|p| p.name == name)
    }

    /// The payloads for `port`, in the order they are tried; the default one if the
    /// port has none of its own.
    pub fn for_port(&self, port: u16) -> Vec<&Payload> {
        match self.by_port.get(&port) {
            Some(list) => list.iter().map(|i| &self.payloads[*i]).collect(),
            None => self
                .default
                .map(|i| &self.payloads[i])
                .into_iter()
                .collect(),
        }
    }

    /// The datagram a scan sends to `addr` (the port's first payload); empty when
    /// neither the port nor the table has one.
    pub fn scan_datagram(&self, addr: SocketAddr, id: u64) -> Vec<u8> {
        self.for_port(addr.port())
            .first()
            .map(|p| p.bytes(&Context { addr, id }))
            .unwrap_or_default()
    }
}

fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if digits.len() & 1 == 1 {
        return Err("`hex` has an odd number of digits".into());
    }
    digits
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| {
                    format!(
                        "`hex` has a non-hex pair {:?}",
                        String::from_utf8_lossy(pair)
                    )
                })
        })
        .collect()
}
