//! Every GraphQL document orderflow sends, one `.graphql` file each, compiled in with
//! `include_str!`. [`ALL`] lists them; a test checks that it names every file of this folder and
//! validates each against the vendored schema, so a new document cannot escape validation.

/// One document: its operation name, its file (relative to this folder) and its text.
///
/// The fields are private so that only this module makes documents: a document the client can
/// send is one of [`ALL`], hence validated by the test suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Document {
    operation: &'static str,
    file: &'static str,
    text: &'static str,
}

impl Document {
    /// Whether this document changes the shop (a `mutation` rather than a `query`).
    pub fn is_mutation(&self) -> bool {
        self.text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .is_some_and(|l| l.starts_with("mutation"))
    }

    /// The operation name, e.g. `OrderSnapshot` (also the `operationName` sent).
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The file name in `src/shopify/documents/`.
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The GraphQL text.
    pub fn text(&self) -> &'static str {
        self.text
    }
}

macro_rules! document {
    ($const:ident, $operation:literal, $file:literal) => {
        pub const $const: Document = Document {
            operation: $operation,
            file: $file,
            text: include_str!($file),
        };
    };
}

document!(ORDER_SNAPSHOT, "OrderSnapshot", "order_snapshot.graphql");
document!(
    ORDER_LINE_ITEMS_PAGE,
    "OrderLineItemsPage",
    "order_line_items_page.graphql"
);
document!(
    ORDER_FULFILLMENT_ORDERS_PAGE,
    "OrderFulfillmentOrdersPage",
    "order_fulfillment_orders_page.graphql"
);
document!(
    FULFILLMENT_ORDER_LINE_ITEMS_PAGE,
    "FulfillmentOrderLineItemsPage",
    "fulfillment_order_line_items_page.graphql"
);
document!(
    FULFILLMENT_LINE_ITEMS_PAGE,
    "FulfillmentLineItemsPage",
    "fulfillment_line_items_page.graphql"
);
document!(
    SELLING_PLAN_CATEGORIES,
    "SellingPlanCategories",
    "selling_plan_categories.graphql"
);
document!(
    FULFILLMENT_ORDER_FOR_ORDER,
    "FulfillmentOrderForOrder",
    "fulfillment_order_for_order.graphql"
);
document!(
    FULFILLMENT_ORDER_HOLD,
    "FulfillmentOrderHold",
    "fulfillment_order_hold.graphql"
);
document!(
    FULFILLMENT_ORDER_RELEASE_HOLD,
    "FulfillmentOrderReleaseHold",
    "fulfillment_order_release_hold.graphql"
);
document!(
    FULFILLMENT_CREATE,
    "FulfillmentCreate",
    "fulfillment_create.graphql"
);
document!(
    FULFILLMENT_ORDERS_SET_FULFILLMENT_DEADLINE,
    "FulfillmentOrdersSetFulfillmentDeadline",
    "fulfillment_orders_set_fulfillment_deadline.graphql"
);
document!(ORDER_CLOSE, "OrderClose", "order_close.graphql");
document!(ORDER_CAPTURE, "OrderCapture", "order_capture.graphql");
document!(
    ORDER_FULFILLMENTS,
    "OrderFulfillments",
    "order_fulfillments.graphql"
);
document!(
    FULFILLMENT_CANCEL,
    "FulfillmentCancel",
    "fulfillment_cancel.graphql"
);
document!(TAGS_ADD, "TagsAdd", "tags_add.graphql");
document!(TAGS_REMOVE, "TagsRemove", "tags_remove.graphql");
document!(METAFIELDS_SET, "MetafieldsSet", "metafields_set.graphql");
document!(SHOP_TIME_ZONE, "ShopTimeZone", "shop_time_zone.graphql");
document!(
    ORDERS_UPDATED_PAGE,
    "OrdersUpdatedPage",
    "orders_updated_page.graphql"
);
document!(
    ORDERS_PLACED_PAGE,
    "OrdersPlacedPage",
    "orders_placed_page.graphql"
);
document!(
    WEBHOOK_SUBSCRIPTIONS_PAGE,
    "WebhookSubscriptionsPage",
    "webhook_subscriptions_page.graphql"
);
document!(
    WEBHOOK_SUBSCRIPTION_CREATE,
    "WebhookSubscriptionCreate",
    "webhook_subscription_create.graphql"
);

/// Every document orderflow can send.
pub const ALL: &[Document] = &[
    ORDER_SNAPSHOT,
    ORDER_LINE_ITEMS_PAGE,
    ORDER_FULFILLMENT_ORDERS_PAGE,
    FULFILLMENT_ORDER_LINE_ITEMS_PAGE,
    FULFILLMENT_LINE_ITEMS_PAGE,
    SELLING_PLAN_CATEGORIES,
    FULFILLMENT_ORDER_FOR_ORDER,
    FULFILLMENT_ORDER_HOLD,
    FULFILLMENT_ORDER_RELEASE_HOLD,
    FULFILLMENT_CREATE,
    ORDER_FULFILLMENTS,
    FULFILLMENT_CANCEL,
    FULFILLMENT_ORDERS_SET_FULFILLMENT_DEADLINE,
    ORDER_CLOSE,
    ORDER_CAPTURE,
    TAGS_ADD,
    TAGS_REMOVE,
    METAFIELDS_SET,
    SHOP_TIME_ZONE,
    ORDERS_UPDATED_PAGE,
    ORDERS_PLACED_PAGE,
    WEBHOOK_SUBSCRIPTIONS_PAGE,
    WEBHOOK_SUBSCRIPTION_CREATE,
];

/// Where the files live, for the test that lists the folder.
pub const DIR: &str = "src/shopify/documents";

#[cfg(test)]
mod mutation_tests {
    use super::ALL;

    #[test]
    fn exactly_the_eleven_mutations_are_mutations() {
        let mut mutations: Vec<_> = ALL
            .iter()
            .filter(|d| d.is_mutation())
            .map(|d| d.operation())
            .collect();
        mutations.sort();
        assert_eq!(mutations.len(), 11, "{mutations:?}");
        assert!(
            ALL.iter()
                .any(|d| d.operation() == "OrderSnapshot" && !d.is_mutation())
        );
        assert!(mutations.contains(&"FulfillmentCancel"));
        assert!(mutations.contains(&"OrderCapture"));
        assert!(
            ALL.iter()
                .any(|d| d.operation() == "OrderFulfillments" && !d.is_mutation())
        );
    }
}
