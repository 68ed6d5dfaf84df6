//! The receiver against the real broker: every answer, and what is (not) on the queues after
//! it, one file per behaviour.

mod broker_outage;
mod contract;
mod hostile;
mod lifecycle;
mod routing;

/// The order id of the `orders/*` fixtures.
const ORDER_ID: &str = "820982911946154508";

/// Sets every header called `name` in a delivery's header list to `value`.
fn set(headers: &mut [(&'static str, String)], name: &str, value: String) {
    for (k, v) in headers.iter_mut() {
        if *k == name {
            *v = value.clone();
        }
    }
}
