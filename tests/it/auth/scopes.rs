//! The default `shopify.scopes` are exactly what orderflow's documents need: every type and root
//! field a document selects is listed below with the scopes the Admin API 2026-10 schema says
//! it requires, the defaults satisfy each of them, and no default is needed by none.
//!
//! `REQUIRED` is copied from the `requiredAccess` notes of the schema's introspection JSON
//! (`admin_2026-10.json.gz` in the shared schema folder); the vendored SDL drops those notes, so
//! the test cannot read them itself, but it does find every type the documents touch, so a new
//! document touching a type not listed here fails until its scopes are looked up.

use std::collections::BTreeSet;

use apollo_compiler::executable::{Selection, SelectionSet};
use orderflow::config::DEFAULT_SCOPES;
use orderflow::shopify::{documents, schema};

const FO_READ: &[&str] = &[
    "read_assigned_fulfillment_orders",
    "read_merchant_managed_fulfillment_orders",
    "read_third_party_fulfillment_orders",
    "read_marketplace_fulfillment_orders",
];

/// (type or `Root.field`, scopes any one of which grants it; empty: no scope noted).
const REQUIRED: &[(&str, &[&str])] = &[
    (
        "Order",
        &["read_orders", "read_marketplace_orders", "read_quick_sale"],
    ),
    ("LineItem", &["read_orders", "read_marketplace_orders"]),
    ("LineItemSellingPlan", &["read_orders"]),
    ("OrderRiskSummary", &["read_orders"]),
    ("OrderRiskAssessment", &["read_orders"]),
    (
        "OrderTransaction",
        &["read_orders", "read_marketplace_orders"],
    ),
    ("Product", &["read_products"]),
    ("SellingPlan", &["read_products"]),
    ("FulfillmentOrder", FO_READ),
    ("FulfillmentHold", FO_READ),
    (
        "FulfillmentOrderLineItem",
        &[
            "read_assigned_fulfillment_orders",
            "read_merchant_managed_fulfillment_orders",
            "read_third_party_fulfillment_orders",
        ],
    ),
    (
        "FulfillmentOrderSupportedAction",
        &[
            "read_assigned_fulfillment_orders",
            "read_merchant_managed_fulfillment_orders",
            "read_third_party_fulfillment_orders",
        ],
    ),
    (
        "DeliveryMethod",
        &[
            "read_orders",
            "read_assigned_fulfillment_orders",
            "read_merchant_managed_fulfillment_orders",
            "read_third_party_fulfillment_orders",
            "read_marketplace_fulfillment_orders",
        ],
    ),
    (
        "Fulfillment",
        &[
            "read_orders",
            "read_marketplace_orders",
            "read_assigned_fulfillment_orders",
            "read_merchant_managed_fulfillment_orders",
            "read_third_party_fulfillment_orders",
            "read_marketplace_fulfillment_orders",
        ],
    ),
    (
        "FulfillmentLineItem",
        &["read_orders", "read_marketplace_orders"],
    ),
    (
        "QueryRoot.fulfillment",
        &[
            "read_orders",
            "read_marketplace_orders",
            "read_assigned_fulfillment_orders",
            "read_merchant_managed_fulfillment_orders",
            "read_third_party_fulfillment_orders",
            "read_marketplace_fulfillment_orders",
        ],
    ),
    ("FulfillmentLineItemConnection", &[]),
    (
        "Mutation.fulfillmentCreate",
        &[
            "write_assigned_fulfillment_orders",
            "write_merchant_managed_fulfillment_orders",
            "write_third_party_fulfillment_orders",
        ],
    ),
    (
        "Mutation.fulfillmentOrderHold",
        &[
            "write_merchant_managed_fulfillment_orders",
            "write_third_party_fulfillment_orders",
        ],
    ),
    (
        "Mutation.fulfillmentOrderReleaseHold",
        &[
            "write_merchant_managed_fulfillment_orders",
            "write_third_party_fulfillment_orders",
            "write_marketplace_fulfillment_orders",
        ],
    ),
    (
        "Mutation.fulfillmentOrdersSetFulfillmentDeadline",
        &[
            "write_merchant_managed_fulfillment_orders",
            "write_third_party_fulfillment_orders",
            "write_marketplace_fulfillment_orders",
        ],
    ),
    ("Mutation.orderClose", &["write_orders"]),
    // "Also: The user must have capture_payments_for_orders permission": a staff permission,
    // which only online (per-user) tokens are limited by.
    (
        "Mutation.orderCapture",
        &["write_orders", "write_marketplace_orders"],
    ),
    ("OrderCapturePayload", &[]),
    ("FulfillmentOrdersSetFulfillmentDeadlinePayload", &[]),
    ("FulfillmentOrdersSetFulfillmentDeadlineUserError", &[]),
    ("OrderClosePayload", &[]),
    // "the same access level needed to mutate the owner resource": orderflow sets metafields
    // and tags on orders only, and an order is mutated with `write_orders` (`orderUpdate`:
    // "`write_orders`, `write_marketplace_orders` or `write_quick_sale`"; orderflow is none of
    // the latter two).
    ("Mutation.metafieldsSet", &["write_orders"]),
    ("Mutation.tagsAdd", &["write_orders"]),
    ("Mutation.tagsRemove", &["write_orders"]),
    ("QueryRoot.order", &[]),
    ("QueryRoot.fulfillmentOrder", &[]),
    ("QueryRoot.nodes", &[]),
    // OrdersUpdatedPage: no `requiredAccess` note on the root field or its connection; the
    // orders themselves need `Order`'s scopes (and only the last 60 days without
    // `read_all_orders`).
    ("QueryRoot.orders", &[]),
    ("OrderConnection", &[]),
    // ShopTimeZone: neither `QueryRoot.shop` nor `Shop` carries a `requiredAccess` note.
    ("QueryRoot.shop", &[]),
    ("Shop", &[]),
    // WebhookSubscriptionsPage: the app's own subscriptions; no `requiredAccess` note on the
    // root field or its types.
    ("QueryRoot.webhookSubscriptions", &[]),
    ("WebhookSubscriptionConnection", &[]),
    ("WebhookSubscription", &[]),
    // WebhookSubscriptionCreate (`webhooks sync`): no `requiredAccess` note on the mutation or
    // its payload; Shopify checks the topic's own scope (an order topic needs `read_orders`,
    // which the defaults have).
    ("Mutation.webhookSubscriptionCreate", &[]),
    ("WebhookSubscriptionCreatePayload", &[]),
    ("FulfillmentCreatePayload", &[]),
    ("FulfillmentOrderConnection", &[]),
    ("FulfillmentOrderHoldPayload", &[]),
    ("FulfillmentOrderHoldUserError", &[]),
    ("FulfillmentOrderLineItemConnection", &[]),
    ("FulfillmentOrderReleaseHoldPayload", &[]),
    ("FulfillmentOrderReleaseHoldUserError", &[]),
    ("LineItemConnection", &[]),
    ("MailingAddress", &[]),
    ("Metafield", &[]),
    ("MetafieldsSetPayload", &[]),
    ("MetafieldsSetUserError", &[]),
    ("MoneyBag", &[]),
    ("MoneyV2", &[]),
    ("Node", &[]),
    ("PageInfo", &[]),
    ("TagsAddPayload", &[]),
    ("TagsRemovePayload", &[]),
    ("UserError", &[]),
    // FulfillmentCancel (`orders cancel-fulfilments`): the 2026-10 schema notes no
    // `requiredAccess` on the mutation or its payload.
    ("Mutation.fulfillmentCancel", &[]),
    ("FulfillmentCancelPayload", &[]),
    // OrderFulfillments reads a fulfilment's tracking.
    (
        "FulfillmentTrackingInfo",
        &[
            "read_orders",
            "read_marketplace_orders",
            "read_assigned_fulfillment_orders",
            "read_merchant_managed_fulfillment_orders",
            "read_third_party_fulfillment_orders",
            "read_marketplace_fulfillment_orders",
        ],
    ),
];

fn walk(set: &SelectionSet, out: &mut BTreeSet<String>) {
    for selection in &set.selections {
        match selection {
            Selection::Field(field) => {
                if field.name == "__typename" {
                    continue;
                }
                let root = matches!(set.ty.as_str(), "QueryRoot" | "Mutation");
                out.insert(if root {
                    format!("{}.{}", set.ty, field.name)
                } else {
                    set.ty.to_string()
                });
                walk(&field.selection_set, out);
            }
            Selection::InlineFragment(inline) => walk(&inline.selection_set, out),
            // Fragments are walked on their own, below.
            Selection::FragmentSpread(_) => {}
        }
    }
}

fn touched() -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for doc in documents::ALL {
        let valid = schema::validate(doc.text(), doc.file()).expect("valid document");
        for op in valid.operations.iter() {
            walk(&op.selection_set, &mut out);
        }
        for fragment in valid.fragments.values() {
            walk(&fragment.selection_set, &mut out);
        }
    }
    out
}

#[test]
fn the_default_scopes_are_exactly_what_the_documents_need() {
    let touched = touched();
    let mut used = BTreeSet::new();
    for item in &touched {
        let (_, alternatives) = REQUIRED
            .iter()
            .find(|(name, _)| name == item)
            .unwrap_or_else(|| panic!("{item} is selected by a document: add it to REQUIRED with the schema's requiredAccess"));
        if alternatives.is_empty() {
            continue;
        }
        let granted: Vec<&str> = alternatives
            .iter()
            .copied()
            .filter(|s| DEFAULT_SCOPES.contains(s))
            .collect();
        assert!(
            !granted.is_empty(),
            "{item} needs one of {alternatives:?}; the defaults have none"
        );
        used.extend(granted);
    }
    let unused: Vec<&&str> = DEFAULT_SCOPES
        .iter()
        .filter(|s| !used.contains(*s))
        .collect();
    assert!(
        unused.is_empty(),
        "default scopes no document needs: {unused:?}"
    );
    for listed in REQUIRED.iter().map(|(n, _)| n) {
        assert!(
            touched.contains(*listed),
            "{listed} is listed but no document selects it"
        );
    }
}

#[test]
fn fulfilment_orders_are_covered_at_merchant_locations_and_at_fulfilment_services() {
    // A shop can have both kinds; a hold or fulfilment at either must not be refused.
    for scope in [
        "read_merchant_managed_fulfillment_orders",
        "write_merchant_managed_fulfillment_orders",
        "read_third_party_fulfillment_orders",
        "write_third_party_fulfillment_orders",
    ] {
        assert!(DEFAULT_SCOPES.contains(&scope), "{scope}");
    }
}
