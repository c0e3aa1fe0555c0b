//! The runner against listeners started here on 127.0.0.1, friendly and hostile.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

use std::time::{Duration, Instant};

use portolan_engine::{Endpoint, Method, Protocol, Service};
use portolan_probe::{identify, Database, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Starts a listener whose every connection is handled by `serve`.
async fn listener<F, Fut>(serve: F) -> u16
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(serve(s));
        }
    });
    port
}

async fn probe(port: u16, settings: &Settings) -> (Service, Duration) {
    let db = Database::builtin().unwrap();
    let endpoint = Endpoint {
        addr: "127.0.0.1".parse().unwrap(),
        port,
        name: None,
        proto: Protocol::Tcp,
    };
    let start = Instant::now();
    let s = identify(&db, &endpoint, Some(Duration::from_micros(100)), settings).await;
    (s, start.elapsed())
}

fn quick() -> Settings {
    Settings {
        fixed_wait: Some(Duration::from_millis(300)),
        ..Settings::default()
    }
}

#[tokio::test]
async fn banner_first_service() {
    let port = listener(|mut s| async move {
        let _ = s
            .write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
            .await;
        let mut buf = [0; 64];
        let _ = s.read(&mut buf).await;
    })
    .await;
    let (s, _) = probe(port, &Settings::default()).await;
    assert_eq!(
        (s.name.as_str(), s.product.as_deref(), s.version.as_deref()),
        ("ssh", Some("OpenSSH"), Some("9.2p1"))
    );
    assert_eq!(s.method, Method::Banner);
}

#[tokio::test]
async fn http_needs_a_request_and_reports_the_redirect() {
    let port = listener(|mut s| async move {
        let mut buf = [0; 1024];
        if matches!(s.read(&mut buf).await, Ok(n) if n > 0 && buf.starts_with(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")) {
            let _ = s
                .write_all(b"HTTP/1.1 302 Found\r\nServer: nginx/1.22.1\r\nLocation: /login\r\n\r\n<title>Go</title>")
                .await;
        }
    })
    .await;
    let (s, _) = probe(port, &quick()).await;
    assert_eq!(
        (s.name.as_str(), s.product.as_deref(), s.method),
        ("http", Some("nginx"), Method::Probed)
    );
    let http = s.http.unwrap();
    assert_eq!(
        (http.status, http.location.as_deref(), http.title.as_deref()),
        (Some(302), Some("/login"), Some("Go"))
    );
}

#[tokio::test]
async fn echo_is_named() {
    let port = listener(|mut s| async move {
        let mut buf = [0; 1024];
        while let Ok(n @ 1..) = s.read(&mut buf).await {
            if s.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    })
    .await;
    let (s, _) = probe(port, &quick()).await;
    assert_eq!(s.name, "echo");
}

#[tokio::test]
async fn silent_is_unknown_within_the_budget() {
    let port = listener(|mut s| async move {
        let mut buf = [0; 1024];
        while let Ok(1..) = s.read(&mut buf).await {}
    })
    .await;
    let (s, took) = probe(port, &quick()).await;
    assert_eq!(
        (s.name.as_str(), s.info.as_deref()),
        ("unknown", Some("silent"))
    );
    assert!(took < Duration::from_millis(1700), "{took:?}");
}

#[tokio::test]
async fn reset_is_tcpwrapped() {
    let port = listener(|s| async move {
        // A zero linger resets at once, so the drop does not block.
        #[allow(deprecated)]
        let _ = s.set_linger(Some(Duration::ZERO));
        drop(s);
    })
    .await;
    let (s, took) = probe(port, &quick()).await;
    assert_eq!(s.name, "tcpwrapped");
    assert!(took < Duration::from_millis(500), "{took:?}");
}

#[tokio::test]
async fn flood_is_cut_at_banner_bytes() {
    let port = listener(|mut s| async move {
        let block = vec![b'A'; 65536];
        for _ in 0..800 {
            if s.write_all(&block).await.is_err() {
                break;
            }
        }
    })
    .await;
    let settings = Settings {
        banner_bytes: 512,
        ..quick()
    };
    let (s, took) = probe(port, &settings).await;
    assert!(
        s.banner.as_ref().is_some_and(|b| b.len() == 512),
        "{:?}",
        s.banner.map(|b| b.len())
    );
    assert!(took < Duration::from_millis(1700), "{took:?}");
}

#[tokio::test]
async fn drip_costs_bounded_time() {
    let port = listener(|mut s| async move {
        loop {
            if s.write_all(b".").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
    })
    .await;
    let (s, took) = probe(port, &quick()).await;
    assert_eq!(s.banner.as_deref(), Some(&b"."[..]));
    assert!(took <= Duration::from_millis(1600), "{took:?}");
}

#[tokio::test]
async fn escapes_are_kept_as_bytes_and_fields_are_clean() {
    let evil = b"\x1b[2J\x1b]0;pwned\x07\r\nSSH-2.0-Evil\xe2\x80\xae\r\n";
    let port = listener(move |mut s| async move {
        let _ = s.write_all(evil).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
    })
    .await;
    let (s, _) = probe(port, &quick()).await;
    assert_eq!(s.banner.as_deref(), Some(&evil[..]));
    for field in [&s.name, s.product.as_ref().unwrap_or(&String::new())] {
        assert!(!field.chars().any(char::is_control), "{field:?}");
    }
}

#[tokio::test]
async fn tls_is_described_and_probed_inside() {
    let (acceptor, summary) =
        portolan_talk::tls::acceptor(&portolan_talk::ServerCert::SelfSigned).unwrap();
    let port = listener(move |s| {
        let acceptor = acceptor.clone();
        async move {
            let Ok(mut tls) = acceptor.accept(s).await else {
                return;
            };
            let mut buf = [0; 1024];
            if let Ok(1..) = tls.read(&mut buf).await {
                let _ = tls
                    .write_all(b"HTTP/1.1 200 OK\r\nServer: Caddy\r\n\r\n<title>Inside</title>")
                    .await;
                let _ = tls.shutdown().await;
            }
        }
    })
    .await;
    let (s, _) = probe(port, &quick()).await;
    assert_eq!(
        (s.name.as_str(), s.product.as_deref()),
        ("https", Some("Caddy httpd"))
    );
    let tls = s.tls.unwrap();
    assert_eq!(tls.sha256.as_deref(), Some(summary.sha256.as_str()));
    assert!(
        tls.version
            .as_deref()
            .is_some_and(|v| v.starts_with("TLSv1")),
        "{:?}",
        tls.version
    );
    assert!(tls.sans.iter().any(|n| n == "localhost"), "{:?}", tls.sans);
    assert!(tls.sans.iter().any(|n| n == "127.0.0.1"), "{:?}", tls.sans);
    assert_eq!(s.http.unwrap().title.as_deref(), Some("Inside"));
}

/// Regression (issue 9, item 17): the JSON `subject_cn` was the raw common name while
/// `issuer` was escaped; SANs were raw too. Every certificate field now follows the
/// one rule of `portolan_text`.
#[tokio::test]
async fn certificate_names_are_escaped_like_the_issuer() {
    let cn = "evil\x1b]0;T\x07\u{202e}\\x1b";
    let mut params = rcgen::CertificateParams::new(vec!["a\x1b\\.test".to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    let dir = std::env::temp_dir().join(format!("portolan-probe-cn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    let (acceptor, _) = portolan_talk::tls::acceptor(&portolan_talk::ServerCert::Files {
        cert: cert_path,
        key: key_path,
    })
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let port = listener(move |s| {
        let acceptor = acceptor.clone();
        async move {
            if let Ok(mut tls) = acceptor.accept(s).await {
                let mut buf = [0; 1024];
                let _ = tls.read(&mut buf).await;
            }
        }
    })
    .await;
    let (s, _) = probe(port, &quick()).await;
    let tls = s.tls.unwrap();
    let escaped = "evil\\x1b]0;T\\x07\\u{202e}\\\\x1b";
    assert_eq!(tls.subject_cn.as_deref(), Some(escaped));
    assert!(
        tls.issuer.as_deref().is_some_and(|i| i.contains(escaped)),
        "{:?}",
        tls.issuer
    );
    assert_eq!(tls.sans, ["a\\x1b\\\\.test"]);
}
