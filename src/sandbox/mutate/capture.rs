//! `orderCapture`, as the Admin API 2026-10 schema and Shopify's reference describe it
//! (`OrderCaptureInput`: `id`, `parentTransactionId`, `amount`, `currency`, `finalCapture`):
//!
//! - the parent must be a successful `AUTHORIZATION` of that order, neither expired
//!   (`authorizationExpiresAt` passed) nor voided nor used up;
//! - `amount` is more than zero and at most what is left of it ("the capture amount can't be
//!   greater than the amount of the authorized transaction", less what was captured);
//! - `currency` "must be the presentment currency … and is a required field for orders where
//!   the currency and presentment currency differ";
//! - the capture is a `CAPTURE` `SUCCESS` transaction whose parent is the authorization; an
//!   authorization that is not `multiCapturable` "can only be captured once", and a multi-
//!   capturable one stays open for more captures unless `finalCapture` voids the rest;
//! - the order's `displayFinancialStatus` becomes `PAID` once no authorization has anything left,
//!   `PARTIALLY_PAID` before.
//!
//! Each refusal is a `UserError` and changes nothing. Shopify also sends `orders/paid` (when the
//! order becomes paid), `order_transactions/create` and `orders/updated`; the sandbox delivers
//! no webhook for any mutation (tests and the demo send the ones they need), it bumps the
//! order's `updatedAt`, which the sweep reads.

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{str_arg, user_error};
use crate::rules::enums::FinancialStatus;
use crate::rules::model::TransactionKind as K;
use crate::sandbox::state::ShopState;
use crate::shopify::snapshot::{Money, OrderSnapshot, PresentmentBag, Transaction, TransactionRef};

fn refused(field: &str, message: &str) -> Value {
    json!({
        "__typename": "OrderCapturePayload",
        "transaction": null,
        "userErrors": [user_error(&["input", field], message, None)],
    })
}

fn amount_of(t: &Transaction) -> Decimal {
    t.amount_set
        .as_ref()
        .map_or(Decimal::ZERO, |a| a.presentment_money.amount)
}

/// What is left to capture of the authorization `auth`, or why nothing can be.
fn left(order: &OrderSnapshot, auth: &Transaction, now: Timestamp) -> Result<Decimal, String> {
    let id = auth.id.as_deref().unwrap_or_default();
    let children: Vec<&Transaction> = order
        .transactions
        .iter()
        .filter(|t| t.parent_transaction.as_ref().is_some_and(|p| p.id == id))
        .collect();
    if children
        .iter()
        .any(|t| t.kind == K::VOID && t.status == K::SUCCESS)
    {
        return Err("The authorization has been voided.".to_owned());
    }
    if auth.authorization_expires_at.is_some_and(|at| at <= now) {
        return Err("The authorization has expired.".to_owned());
    }
    let captured: Vec<&&Transaction> = children
        .iter()
        .filter(|t| {
            t.kind == K::CAPTURE
                && matches!(
                    t.status.as_str(),
                    K::SUCCESS | K::PENDING | K::AWAITING_RESPONSE
                )
        })
        .collect();
    if !auth.multi_capturable && !captured.is_empty() {
        return Err("The authorization has already been captured.".to_owned());
    }
    let done: Decimal = captured.iter().map(|t| amount_of(t)).sum();
    let left = amount_of(auth) - done;
    if left <= Decimal::ZERO {
        return Err("The authorization has already been captured.".to_owned());
    }
    Ok(left)
}

fn money(v: Option<&Value>) -> Option<Decimal> {
    match v? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.to_string().parse().ok(),
        _ => None,
    }
}

pub(super) fn capture(shop: &mut ShopState, args: &Value, now: Timestamp) -> Value {
    let input = args.get("input").unwrap_or(&Value::Null);
    let order_id = str_arg(input, "id").unwrap_or_default().to_owned();
    let parent_id = str_arg(input, "parentTransactionId")
        .unwrap_or_default()
        .to_owned();
    let new_id = shop.new_gid("OrderTransaction");
    let void_id = shop.new_gid("OrderTransaction");
    let Some(stored) = shop.orders.get_mut(&order_id) else {
        return refused("id", "Order does not exist");
    };
    let order = &mut stored.order;
    let Some(auth) = order
        .transactions
        .iter()
        .find(|t| t.id.as_deref() == Some(parent_id.as_str()))
        .cloned()
    else {
        return refused("parentTransactionId", "Parent transaction does not exist");
    };
    if auth.kind != K::AUTHORIZATION || auth.status != K::SUCCESS {
        return refused(
            "parentTransactionId",
            "Parent transaction must be a successful authorization",
        );
    }
    let left = match left(order, &auth, now) {
        Ok(left) => left,
        Err(why) => return refused("parentTransactionId", &why),
    };
    let Some(amount) = money(input.get("amount")) else {
        return refused("amount", "Amount is invalid");
    };
    if amount <= Decimal::ZERO {
        return refused("amount", "Amount must be greater than 0");
    }
    if amount > left {
        return refused(
            "amount",
            &format!("Amount cannot exceed the capturable amount of {left}"),
        );
    }
    let presentment = order
        .presentment_currency_code
        .clone()
        .unwrap_or_else(|| order.total_price_set.shop_money.currency_code.clone());
    let shop_currency = order
        .currency_code
        .clone()
        .unwrap_or_else(|| order.total_price_set.shop_money.currency_code.clone());
    match str_arg(input, "currency") {
        None if presentment != shop_currency => {
            return refused(
                "currency",
                "Currency is required for orders whose currency and presentment currency differ",
            );
        }
        Some(c) if c != presentment => {
            return refused(
                "currency",
                &format!("Currency must be the presentment currency {presentment}"),
            );
        }
        _ => {}
    }
    let final_capture = input
        .get("finalCapture")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let child = |id: String, kind: &str, amount: Decimal| Transaction {
        id: Some(id),
        kind: kind.to_owned(),
        status: K::SUCCESS.to_owned(),
        processed_at: Some(now),
        amount_set: Some(PresentmentBag {
            presentment_money: Money {
                amount,
                currency_code: presentment.clone(),
            },
        }),
        authorization_expires_at: None,
        parent_transaction: Some(TransactionRef {
            id: parent_id.clone(),
        }),
        multi_capturable: false,
    };
    let capture = child(new_id, K::CAPTURE, amount);
    order.transactions.push(capture.clone());
    if auth.multi_capturable && final_capture && amount < left {
        order
            .transactions
            .push(child(void_id, K::VOID, left - amount));
    }
    order.display_financial_status = Some(financial_status(order, now));
    stored.updated_at = now;
    json!({
        "__typename": "OrderCapturePayload",
        "transaction": crate::sandbox::view::transaction(&capture, &stored.order),
        "userErrors": [],
    })
}

/// PAID once no successful authorization has anything left to capture, else PARTIALLY_PAID.
fn financial_status(order: &OrderSnapshot, now: Timestamp) -> FinancialStatus {
    let open = order
        .transactions
        .iter()
        .filter(|t| t.kind == K::AUTHORIZATION && t.status == K::SUCCESS)
        .any(|auth| left(order, auth, now).is_ok());
    if open {
        FinancialStatus::PartiallyPaid
    } else {
        FinancialStatus::Paid
    }
}
