//! Shopify Admin GraphQL client (see issue 3).
