//! `mqtts://`: rustls with ring (the provider the rest of the daemon uses), the system's roots
//! plus `ca_file`, and a client certificate when one is configured.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore};

use crate::config::MqttConfig;

pub fn client_config(config: &MqttConfig) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    // Unreadable system certificates are not fatal: a configured CA may be all that is needed.
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if !config.ca_file.as_os_str().is_empty() {
        let file = config.ca_file.display();
        let certs =
            read_certs(&config.ca_file).map_err(|e| format!("mqtt.ca_file = \"{file}\": {e}"))?;
        for cert in certs {
            roots.add(cert).map_err(|e| {
                format!("mqtt.ca_file = \"{file}\": not a usable CA certificate: {e}")
            })?;
        }
    }
    if roots.is_empty() {
        return Err(
            "mqtts://: no trusted roots (none in the system's store, and no mqtt.ca_file)".into(),
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots);
    if config.cert_file.as_os_str().is_empty() {
        return Ok(Arc::new(builder.with_no_client_auth()));
    }
    let cert_file = config.cert_file.display();
    let key_file = config.key_file.display();
    let certs = read_certs(&config.cert_file)
        .map_err(|e| format!("mqtt.cert_file = \"{cert_file}\": {e}"))?;
    let key = PrivateKeyDer::from_pem_file(&config.key_file)
        .map_err(|e| format!("mqtt.key_file = \"{key_file}\": no private key read: {e}"))?;
    let tls = builder
        .with_client_auth_cert(certs, key)
        .map_err(|e| format!("mqtt.cert_file and mqtt.key_file: {e}"))?;
    Ok(Arc::new(tls))
}

fn read_certs(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err("holds no PEM certificate".into());
    }
    Ok(certs)
}
