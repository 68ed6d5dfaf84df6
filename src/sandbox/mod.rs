//! The simulated Shopify shop (see issue 3).
