//! `orderflow orders …`: bulk operations over a selection of a shop's orders, dry run by
//! default, one row per order in a table and `--csv`: `reevaluate` (wake them so today's rules
//! apply), `release-holds` (release orderflow's own holds) and `cancel-fulfilments` (cancel
//! their unshipped fulfilments as a person's taking back). What they share is in `bulk`
//! (config, shops, selection, table, CSV) and `progress` (the terminal's progress line, the
//! cost estimate, the loop that stops on Ctrl-C and still prints and writes what was done).
//! Each is resumable: a re-run skips what is done (said in each command's module).

use std::path::PathBuf;

use clap::Subcommand;

use super::ConfigArg;

mod bulk;
mod cancel;
mod progress;
mod reevaluate;
mod release;
mod selection;

#[derive(Debug, Subcommand)]
pub enum OrdersAction {
    /// Wake the selected orders so today's rules apply, through their partitions like the
    /// sweep. Lists them and sends nothing unless --apply.
    Reevaluate(ReevaluateArgs),
    /// Release orderflow's own holds (never anyone else's) on the selected orders, then wake
    /// each so the worker records them as released by a person. Lists them unless --apply.
    ReleaseHolds(ReleaseHoldsArgs),
    /// Cancel the selected orders' fulfilments that have not shipped (`fulfillmentCancel`),
    /// recorded as a person's taking back so orderflow never fulfils those lines again; shipped
    /// ones are refused with the reason. Lists them unless --apply.
    CancelFulfilments(CancelFulfilmentsArgs),
}

/// The orders a bulk operation acts on: every flag narrows (joined by AND).
#[derive(Debug, clap::Args)]
pub struct SelectionArgs {
    /// A known shop (configured, or installed in the store), e.g. acme.myshopify.com, or `all`
    /// for every one not uninstalled.
    #[arg(long)]
    pub shop: String,
    /// Orders created at or after this instant (RFC 3339, e.g. 2026-11-23T00:00:00Z).
    #[arg(long)]
    pub since: Option<String>,
    /// Orders created at or before this instant (RFC 3339).
    #[arg(long)]
    pub until: Option<String>,
    /// Orders with this tag (Shopify compares tags without regard to case).
    #[arg(long)]
    pub tag: Option<String>,
    /// This order (its numeric id); repeat for several.
    #[arg(long = "order-id", value_name = "N")]
    pub order_ids: Vec<u64>,
    /// A Shopify search string, appended as is with AND (e.g. "financial_status:paid").
    #[arg(long)]
    pub query: Option<String>,
}

/// `orderflow orders reevaluate`.
#[derive(Debug, clap::Args)]
pub struct ReevaluateArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Publish the wake-ups (without it, a dry run: list and send nothing).
    #[arg(long)]
    pub apply: bool,
    /// Also write one row per order to FILE (CSV): shop,name,id,planned,done,reason.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

/// `orderflow orders release-holds`.
#[derive(Debug, clap::Args)]
pub struct ReleaseHoldsArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Which of orderflow's holds: `fraud` (orderflow-fraud), `processing`
    /// (orderflow-processing), or `all` of orderflow's.
    #[arg(long, value_enum)]
    pub reason: HoldReason,
    /// Release the holds and publish the wake-ups (without it, a dry run: list and change nothing).
    #[arg(long)]
    pub apply: bool,
    /// Also write one row per order to FILE (CSV): shop,name,id,planned,done,reason.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

/// `orderflow orders cancel-fulfilments`.
#[derive(Debug, clap::Args)]
pub struct CancelFulfilmentsArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Record and cancel, then wake each order (without it, a dry run: list and change nothing).
    #[arg(long)]
    pub apply: bool,
    /// Also write one row per order to FILE (CSV): shop,name,id,planned,done,reason.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// The items go back to stock: what `fulfillmentCancel` does (the default; accepted to say so).
    #[arg(long, overrides_with = "no_restock")]
    pub restock: bool,
    /// Refused: `fulfillmentCancel` (Admin API 2026-10) has no restock option.
    #[arg(long)]
    pub no_restock: bool,
    /// Refused: `fulfillmentCancel` (Admin API 2026-10) has no notification option.
    #[arg(long)]
    pub notify_customer: bool,
}

/// `--reason` of `release-holds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HoldReason {
    Fraud,
    Processing,
    All,
}

pub async fn run(action: OrdersAction) -> anyhow::Result<i32> {
    match action {
        OrdersAction::Reevaluate(args) => reevaluate::run(args).await,
        OrdersAction::ReleaseHolds(args) => release::run(args).await,
        OrdersAction::CancelFulfilments(args) => cancel::run(args).await,
    }
}
