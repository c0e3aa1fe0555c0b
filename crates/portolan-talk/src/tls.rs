//! TLS for `connect`, `listen` and `http`, with rustls and the `ring` provider.
//!
//! A client verifies the server against the system's root certificates unless told
//! [`Verification::Insecure`]; either way the server's certificate (subject, issuer,
//! validity, SHA-256 fingerprint) is described on the diagnostic stream, so an
//! insecure connection is still an informed one. A server uses a certificate from PEM
//! files or a freshly generated self-signed one.
//!
//! Certificate text comes from the peer, so every field of a [`CertSummary`] is
//! escaped for the terminal (tab, CR and LF included: a subject cannot start a line
//! of its own). A handshake is bounded by [`within`]: a peer that accepts TCP and
//! never speaks TLS is a timed-out handshake, not a hang.

use std::fmt::Write as _;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{
    ring as provider, verify_tls12_signature, verify_tls13_signature, CryptoProvider,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::{client, TlsAcceptor, TlsConnector};

use crate::error::{TalkError, UsageError};

/// How long a handshake may take when no other bound is given.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `handshake` with `peer`, failing with [`TalkError::HandshakeTimeout`] when it
/// has not finished after `limit`.
pub async fn within<T>(
    limit: Duration,
    peer: &str,
    handshake: impl Future<Output = Result<T, TalkError>>,
) -> Result<T, TalkError> {
    tokio::time::timeout(limit, handshake)
        .await
        .unwrap_or_else(|_| {
            Err(TalkError::HandshakeTimeout {
                peer: peer.to_string(),
                limit,
            })
        })
}

/// Whether the server's certificate must chain to a trusted root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verification {
    /// Verify against the system's roots and the server name (the default).
    #[default]
    SystemRoots,
    /// Accept any certificate (`--insecure`); it is still described.
    Insecure,
}

/// Client-side TLS settings.
#[derive(Debug, Clone, Default)]
pub struct ClientTls {
    /// How to check the server's certificate.
    pub verification: Verification,
    /// The server name to send and verify; the target host when `None`.
    pub sni: Option<String>,
    /// ALPN protocols to offer, e.g. `h2`, `http/1.1`.
    pub alpn: Vec<String>,
}

/// Where a TLS server's certificate comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ServerCert {
    /// Generate a self-signed certificate for `localhost` and `127.0.0.1`.
    #[default]
    SelfSigned,
    /// Certificate chain and private key from PEM files.
    Files {
        /// The certificate chain.
        cert: PathBuf,
        /// The private key.
        key: PathBuf,
    },
}

/// The facts about a certificate that a person checks, each escaped so that it is
/// safe on one line of a terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    /// The subject distinguished name.
    pub subject: String,
    /// The issuer distinguished name.
    pub issuer: String,
    /// Not valid before.
    pub not_before: String,
    /// Not valid after.
    pub not_after: String,
    /// SHA-256 of the DER encoding, colon-separated hex.
    pub sha256: String,
}

impl CertSummary {
    /// Describes a DER certificate; fields that cannot be parsed say so.
    pub fn of(der: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let mut sha256 = String::new();
        for (i, b) in digest.as_ref().iter().enumerate() {
            let sep = if i == 0 { "" } else { ":" };
            let _ = write!(sha256, "{sep}{b:02X}");
        }
        let unknown = || "(unparsable certificate)".to_string();
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der) else {
            return Self {
                subject: unknown(),
                issuer: unknown(),
                not_before: unknown(),
                not_after: unknown(),
                sha256,
            };
        };
        Self {
            subject: escape_field(&cert.subject().to_string()),
            issuer: escape_field(&cert.issuer().to_string()),
            not_before: escape_field(&cert.validity().not_before.to_string()),
            not_after: escape_field(&cert.validity().not_after.to_string()),
            sha256,
        }
    }

    /// The summary as `tls:` lines for the diagnostic stream.
    pub fn lines(&self) -> String {
        format!(
            "tls: subject {}\ntls: issuer  {}\ntls: valid   {} to {}\ntls: sha256  {}\n",
            self.subject, self.issuer, self.not_before, self.not_after, self.sha256
        )
    }
}

/// Renders certificate text for one line of a terminal with the one rule of
/// [`portolan_text::escape_line`] (tab, CR and LF included, as `\x09`, `\x0d`, `\x0a`).
fn escape_field(text: &str) -> String {
    portolan_text::escape_line(text.as_bytes())
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(provider::default_provider())
}

fn client_config(tls: &ClientTls) -> Result<rustls::ClientConfig, TalkError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TalkError::TlsSetup(e.to_string()))?;
    let mut config = match tls.verification {
        Verification::SystemRoots => {
            let mut roots = rustls::RootCertStore::empty();
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(TalkError::NoRootCertificates);
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        Verification::Insecure => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider())))
            .with_no_client_auth(),
    };
    config.alpn_protocols = tls.alpn.iter().map(|p| p.as_bytes().to_vec()).collect();
    Ok(config)
}

/// The server name for SNI and verification: `--sni`, else the host.
pub fn server_name(tls: &ClientTls, host: &str) -> Result<ServerName<'static>, UsageError> {
    let name = tls.sni.as_deref().unwrap_or(host);
    ServerName::try_from(name.to_string()).map_err(|_| UsageError::ServerName(name.to_string()))
}

/// Runs the client handshake over `tcp` and describes the result on `diag`.
pub async fn connect(
    tcp: TcpStream,
    host: &str,
    tls: &ClientTls,
    diag: &mut String,
) -> Result<client::TlsStream<TcpStream>, TalkError> {
    let name = server_name(tls, host)?;
    let connector = TlsConnector::from(Arc::new(client_config(tls)?));
    let stream = connector
        .connect(name, tcp)
        .await
        .map_err(|cause| TalkError::Handshake {
            server: host.to_string(),
            cause,
        })?;
    let (_, session) = stream.get_ref();
    describe_session(
        session.protocol_version(),
        session.negotiated_cipher_suite(),
        session.alpn_protocol(),
        diag,
    );
    if let Some(cert) = session.peer_certificates().and_then(|c| c.first()) {
        diag.push_str(&CertSummary::of(cert).lines());
    }
    diag.push_str(match tls.verification {
        Verification::SystemRoots => "tls: certificate verified against the system roots\n",
        Verification::Insecure => "tls: certificate NOT verified (--insecure)\n",
    });
    Ok(stream)
}

fn describe_session(
    version: Option<rustls::ProtocolVersion>,
    suite: Option<rustls::SupportedCipherSuite>,
    alpn: Option<&[u8]>,
    diag: &mut String,
) {
    let version = version.map_or_else(|| "?".to_string(), |v| format!("{v:?}"));
    let suite = suite.map_or_else(|| "?".to_string(), |s| format!("{:?}", s.suite()));
    let _ = write!(diag, "tls: {version}, {suite}");
    if let Some(alpn) = alpn {
        let _ = write!(diag, ", ALPN {}", String::from_utf8_lossy(alpn));
    }
    diag.push('\n');
}

/// Builds a TLS acceptor and describes its certificate.
pub fn acceptor(cert: &ServerCert) -> Result<(TlsAcceptor, CertSummary), TalkError> {
    let (chain, key) = match cert {
        ServerCert::SelfSigned => self_signed()?,
        ServerCert::Files { cert, key } => load_pem(cert, key)?,
    };
    let summary = CertSummary::of(chain.first().map_or(&[][..], |c| c.as_ref()));
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TalkError::TlsSetup(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TalkError::TlsSetup(e.to_string()))?;
    Ok((TlsAcceptor::from(Arc::new(config)), summary))
}

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn self_signed() -> Result<Identity, TalkError> {
    let names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    let certified = rcgen::generate_simple_self_signed(names)
        .map_err(|e| TalkError::TlsSetup(format!("generating a certificate: {e}")))?;
    let key = PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der());
    Ok((vec![certified.cert.der().clone()], key.into()))
}

fn load_pem(cert: &PathBuf, key: &PathBuf) -> Result<Identity, TalkError> {
    let pem_error = |path: &PathBuf, reason: String| {
        TalkError::Usage(UsageError::Pem {
            path: path.clone(),
            reason,
        })
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| pem_error(cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| pem_error(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(pem_error(cert, "no certificate in the file".into()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| pem_error(key, e.to_string()))?;
    Ok((chain, key))
}

/// A verifier that accepts any certificate but still checks that the handshake is
/// signed by its key (so the fingerprint shown is the one the server holds).
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_summary_names_localhost() {
        let (chain, _) = self_signed().unwrap();
        let summary = CertSummary::of(chain[0].as_ref());
        assert_eq!(summary.sha256.len(), 32 * 3 - 1);
        assert!(summary.lines().contains("tls: sha256  "));
        assert!(summary.not_after.len() > 4);
    }

    #[test]
    fn certificate_fields_are_escaped_for_the_terminal() {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params.distinguished_name.push(
            rcgen::DnType::CommonName,
            "evil\x1b[2J\ntls: subject fake\tx\r",
        );
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let summary = CertSummary::of(cert.der());
        let lines = summary.lines();
        assert!(!lines.contains('\x1b'), "{lines:?}");
        assert!(!lines.contains('\t') && !lines.contains('\r'), "{lines:?}");
        assert_eq!(lines.lines().count(), 4, "{lines:?}");
        assert!(
            summary
                .subject
                .contains("evil\\x1b[2J\\x0atls: subject fake\\x09x\\x0d"),
            "{summary:?}"
        );
        assert_eq!(summary.issuer, summary.subject);
    }

    #[test]
    fn escape_field_keeps_printable_text() {
        assert_eq!(escape_field("CN=caf\u{e9}, O=Lab"), "CN=caf\u{e9}, O=Lab");
        assert_eq!(escape_field("a\u{202e}b\u{9b}"), "a\\u{202e}b\\u{9b}");
        assert_eq!(escape_field("\u{200f}\\x1b"), "\\u{200f}\\\\x1b");
    }

    #[test]
    fn garbage_is_described_not_fatal() {
        let summary = CertSummary::of(b"not a certificate");
        assert!(summary.subject.contains("unparsable"));
    }

    #[test]
    fn sni_defaults_to_host_and_accepts_ips() {
        let tls = ClientTls::default();
        assert!(server_name(&tls, "127.0.0.1").is_ok());
        assert!(server_name(&tls, "lab.portolan.test").is_ok());
        let bad = ClientTls {
            sni: Some("bad name!".into()),
            ..ClientTls::default()
        };
        assert!(server_name(&bad, "x").is_err());
    }
}
