//! orderflow: the backend of a Shopify app.
//!
//! Shopify's order webhooks are verified ([`webhook`]) and made durable on RabbitMQ ([`queue`])
//! before the receiver answers 200. Workers then re-read each order through the GraphQL Admin API
//! ([`shopify`]), compute the state the merchant's rules ask for ([`rules`], [`calendar`]: pure,
//! no I/O, no clock) and apply only the difference.
//!
//! Invariants the modules keep:
//! - 200 means the message is confirmed by the broker; anything else is a non-2xx answer so
//!   Shopify retries.
//! - The pure core never reads the clock or the environment; time is an argument ([`clock`]).
//! - Secrets are `secrecy` types from the moment they are read and never printed.

pub mod app;
pub mod auth;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dlq;
pub mod event;
pub mod id;
pub mod install;
pub mod queue;
pub mod report;
pub mod rules;
pub mod sandbox;
pub mod shopify;
pub mod shops;
pub mod store;
pub mod sweep;
pub mod telemetry;
pub mod webhook;
pub mod worker;
