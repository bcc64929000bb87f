//! Connection flags against a real HTTPS API server (apiserver-fake): what real clusters rely on.

use apiserver_fake::FakeServer;
use clap::Parser;
use kube::api::ListParams;
use kube::core::ApiResource;
use kubeplug::ConnectionFlags;
use kubeplug::config::Environment;
use std::os::unix::fs::PermissionsExt;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    connection: ConnectionFlags,
}

fn flags(args: &[&str]) -> ConnectionFlags {
    Args::try_parse_from(std::iter::once("kubectl-x").chain(args.iter().copied())).unwrap().connection
}

fn env(server: &FakeServer) -> Environment {
    Environment { kubeconfig: Some(server.kubeconfig().into()), home: None }
}

async fn namespaces(flags: &ConnectionFlags, env: &Environment) -> anyhow::Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Ns {
        metadata: Meta,
    }
    #[derive(serde::Deserialize)]
    struct Meta {
        name: String,
    }
    let connection = flags.resolve_in(env).await?.connect()?;
    let resource = ApiResource::erase::<k8s_openapi::api::core::v1::Namespace>(&());
    let all: Vec<Ns> = kubeplug::list::list_all(&connection.client, &resource, None, &ListParams::default()).await?;
    Ok(all.into_iter().map(|n| n.metadata.name).collect())
}

fn install_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[tokio::test]
async fn exec_credential_plugins_authenticate() {
    install_provider();
    let server = tokio::task::spawn_blocking(FakeServer::start).await.unwrap().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A credential plugin like aws-iam-authenticator / gke-gcloud-auth-plugin / kubelogin.
    let plugin = dir.path().join("credential-plugin");
    std::fs::write(
        &plugin,
        "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"admin-token\"}}'\n",
    )
    .unwrap();
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let original = std::fs::read_to_string(server.kubeconfig()).unwrap();
    let ca = original.lines().find(|l| l.contains("certificate-authority-data")).unwrap().trim();
    let kubeconfig = format!(
        "apiVersion: v1
kind: Config
current-context: exec
clusters:
- name: fake
  cluster:
    server: {}
    {ca}
contexts:
- name: exec
  context: {{cluster: fake, user: exec-user}}
users:
- name: exec-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: {}
      interactiveMode: Never
",
        server.url(),
        plugin.display()
    );
    let path = dir.path().join("config");
    std::fs::write(&path, kubeconfig).unwrap();
    let names = namespaces(&flags(&["--kubeconfig", path.to_str().unwrap()]), &Environment::default()).await.unwrap();
    assert!(names.contains(&"default".to_string()), "{names:?}");
}

#[tokio::test]
async fn impersonation_reaches_the_server_as_headers() {
    install_provider();
    let server = tokio::task::spawn_blocking(FakeServer::start).await.unwrap().unwrap();
    let _ = namespaces(&flags(&["--as", "alice", "--as-group", "devs"]), &env(&server)).await;
    let request = server.requests().into_iter().rev().find(|r| r.path == "/api/v1/namespaces").unwrap();
    let header = |name: &str| -> Vec<String> {
        request.headers.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    };
    assert_eq!(header("impersonate-user"), ["alice"]);
    assert_eq!(header("impersonate-group"), ["devs"]);
    assert_eq!(request.user.as_deref(), Some("alice"), "the admin may impersonate, so the request runs as alice");
}

#[tokio::test]
async fn token_flag_replaces_the_kubeconfig_credentials() {
    install_provider();
    let server = tokio::task::spawn_blocking(FakeServer::start).await.unwrap().unwrap();
    let err = namespaces(&flags(&["--token", "bob-token"]), &env(&server)).await.unwrap_err();
    let message = kubeplug::error::describe(&err).message;
    assert!(message.contains(r#"User "bob" cannot list resource "namespaces""#), "{message}");
    let err = namespaces(&flags(&["--token", "wrong"]), &env(&server)).await.unwrap_err();
    assert_eq!(
        kubeplug::error::describe(&err).message,
        "listing namespaces: You must be logged in to the server (Unauthorized)"
    );
}

#[tokio::test]
async fn context_flag_selects_the_user() {
    install_provider();
    let server = tokio::task::spawn_blocking(FakeServer::start).await.unwrap().unwrap();
    assert!(namespaces(&flags(&[]), &env(&server)).await.is_ok(), "admin is the current context");
    let err = namespaces(&flags(&["--context", "alice"]), &env(&server)).await.unwrap_err();
    assert!(kubeplug::error::describe(&err).message.contains(r#"User "alice""#));
}

#[tokio::test]
async fn discovery_takes_two_requests_and_resolves_custom_resources() {
    install_provider();
    let server =
        tokio::task::spawn_blocking(|| apiserver_fake::FakeServer::start_with(apiserver_fake::Options::demo()))
            .await
            .unwrap()
            .unwrap();
    server.clear_requests();
    let connection = flags(&[]).resolve_in(&env(&server)).await.unwrap().connect().unwrap();
    let discovery = kubeplug::discovery::Discovery::fetch(&connection.client).await.unwrap();
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths.len(), 2, "aggregated discovery: /api and /apis only, got {paths:?}");
    let candy = discovery.resolve("cn").unwrap();
    assert_eq!((candy.group.as_str(), candy.plural.as_str()), ("awesome.corp.com", "candies"));
    let pods = discovery.resolve("po").unwrap();
    assert!(pods.group.is_empty() && pods.subresources.contains(&"log".to_string()));
}
