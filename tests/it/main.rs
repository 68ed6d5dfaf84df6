//! One integration-test binary (faster to link than one per file). Every test that needs the
//! broker talks to the real RabbitMQ on 127.0.0.1:5672 under its own queue prefix; Shopify is
//! the in-process sandbox shop.

mod harness;

mod admin_page;
mod app_install;
mod architecture;
mod auth;
mod cancel_fulfilments_cli;
mod cli;
mod coalesce;
mod demo;
mod deploy;
mod dlq;
mod e2e;
mod e2e_archive;
mod e2e_cancel;
mod e2e_capture;
mod faults;
mod fuzz;
mod install;
mod oauth;
mod ops_files;
mod orders_cli;
mod pause;
mod receiver;
mod reconcile;
mod reconcile_bucket;
mod release_holds_cli;
mod reload;
mod report;
mod rules;
mod sandbox;
mod sandbox_cancel;
mod sandbox_capture;
mod sandbox_close;
mod sandbox_oauth;
mod schema;
mod secrets;
mod shopify;
mod shops;
mod shutdown;
mod simulate;
mod store;
mod sweep;
mod tokens_cli;
mod webhooks;
mod worker_loop;
