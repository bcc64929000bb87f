//! Authentication: bearer tokens mapped to users and groups.

use crate::rbac::UserInfo;

/// A user known to the fake server, with its bearer token and groups.
pub struct KnownUser {
    /// User name, also the kubeconfig context name.
    pub name: &'static str,
    /// Bearer token in the kubeconfig.
    pub token: &'static str,
    /// Groups besides `system:authenticated`.
    pub groups: &'static [&'static str],
}

/// The users of every fake server.
pub const USERS: &[KnownUser] = &[
    KnownUser { name: "admin", token: "admin-token", groups: &["system:masters"] },
    KnownUser { name: "alice", token: "alice-token", groups: &["devs"] },
    KnownUser { name: "bob", token: "bob-token", groups: &[] },
];

/// Outcome of reading the Authorization header.
pub enum Authn {
    /// A known token, or no token at all (system:anonymous).
    User(UserInfo),
    /// A token that matches no user: 401.
    Unauthorized,
}

/// Maps the Authorization header value (if any) to a user.
pub fn authenticate(authorization: Option<&str>) -> Authn {
    let Some(value) = authorization else {
        return Authn::User(UserInfo {
            name: "system:anonymous".into(),
            uid: None,
            groups: vec!["system:unauthenticated".into()],
        });
    };
    let token = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).map(str::trim);
    match token.and_then(|t| USERS.iter().find(|u| u.token == t)) {
        Some(user) => Authn::User(user_info(user)),
        None => Authn::Unauthorized,
    }
}

/// The UserInfo of a known user, with `system:authenticated` appended.
pub fn user_info(user: &KnownUser) -> UserInfo {
    let mut groups: Vec<String> = user.groups.iter().map(|g| g.to_string()).collect();
    groups.push("system:authenticated".into());
    UserInfo { name: user.name.into(), uid: None, groups }
}

/// The token of a known user name.
pub fn token_of(name: &str) -> Option<&'static str> {
    USERS.iter().find(|u| u.name == name).map(|u| u.token)
}
