//! Tokens in each mode: the token keys of the config, the default scopes against the documents,
//! each grant's request and answer, and client-credentials mode end to end (a local token
//! endpoint in front of the sandbox shop).

mod client_credentials;
mod config;
mod grants;
mod scopes;
mod token_server;
