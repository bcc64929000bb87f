//! The certificates and keys a control plane needs, made with rcgen: a CA, the serving
//! certificate (SAN 127.0.0.1, localhost), the front-proxy client for aggregated APIs, and the
//! service-account signing key.

use std::path::Path;

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};

/// PEM of the CA, which the kubeconfigs embed.
pub struct Pki {
    pub ca_pem: String,
}

/// Writes `ca.crt`, `apiserver.crt/.key`, `proxy-client.crt/.key`, `sa.key`, `sa.pub` into `dir`.
pub fn write(dir: &Path) -> anyhow::Result<Pki> {
    let ca_key = KeyPair::generate().context("generating the CA key")?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name.push(DnType::CommonName, "kubeplug-testenv-ca");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca.self_signed(&ca_key)?;
    let ca_pem = ca_cert.pem();
    let issuer = Issuer::new(ca, ca_key);

    let leaf = |name: &str, sans: Vec<String>, usage: ExtendedKeyUsagePurpose| -> anyhow::Result<(String, String)> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(sans)?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![usage];
        let cert = params.signed_by(&key, &issuer)?;
        Ok((cert.pem(), key.serialize_pem()))
    };
    let (serving, serving_key) =
        leaf("kube-apiserver", vec!["127.0.0.1".into(), "localhost".into()], ExtendedKeyUsagePurpose::ServerAuth)?;
    let (proxy, proxy_key) = leaf("front-proxy-client", Vec::new(), ExtendedKeyUsagePurpose::ClientAuth)?;
    let sa = KeyPair::generate().context("generating the service-account key")?;

    for (file, text) in [
        ("ca.crt", ca_pem.clone()),
        ("apiserver.crt", serving),
        ("apiserver.key", serving_key),
        ("proxy-client.crt", proxy),
        ("proxy-client.key", proxy_key),
        ("sa.key", sa.serialize_pem()),
        ("sa.pub", sa.public_key_pem()),
    ] {
        std::fs::write(dir.join(file), text).with_context(|| format!("writing {file}"))?;
    }
    Ok(Pki { ca_pem })
}
