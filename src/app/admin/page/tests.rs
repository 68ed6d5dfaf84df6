use super::*;

fn data<'a>(
    samples: &'a Samples,
    queues: Result<&'a [QueueDepth], String>,
    shops: &'a [String],
    errors: &'a BTreeMap<String, ShopError>,
    decisions: &'a [DecisionEntry],
) -> PageData<'a> {
    PageData {
        now: "2026-11-23T09:00:00Z".parse().unwrap(),
        version: "0.1.0",
        roles: "receive + work",
        refresh_seconds: 5,
        samples,
        queues,
        dead_queue: "of.dead",
        shops,
        errors,
        decisions,
    }
}

#[test]
fn figures_carry_their_metric_and_merchant_text_is_escaped() {
    let samples = Samples::parse(
        "orderflow_broker_connected 1\n\
         orderflow_webhooks_total{topic=\"orders/create\",outcome=\"published\"} 3\n\
         orderflow_webhooks_total{topic=\"orders/paid\",outcome=\"published\"} 2\n\
         orderflow_shop_event_lag_seconds{shop=\"acme.myshopify.com\"} 0.25\n",
    );
    let queues = vec![
        QueueDepth {
            name: "of.orders.0".into(),
            messages: 4,
            consumers: 1,
        },
        QueueDepth {
            name: "of.dead".into(),
            messages: 2,
            consumers: 0,
        },
    ];
    let shops = vec!["acme.myshopify.com".to_owned()];
    let errors = BTreeMap::new();
    let decisions = vec![DecisionEntry {
        at: 1_763_888_400,
        shop: "acme.myshopify.com".into(),
        order_id: 7,
        order_name: "#7 <script>".into(),
        rules: vec!["made \"to\" order".into()],
        actions: vec!["hold".into()],
        outcome: "applied".into(),
    }];
    let html = render(&data(&samples, Ok(&queues), &shops, &errors, &decisions));
    assert!(html.contains(
        "data-metric=\"orderflow_webhooks_total\" data-labels=\"{&quot;outcome&quot;:&quot;published&quot;}\" data-value=\"5\">5</td>"
    ), "{html}");
    assert!(html.contains("data-value=\"0.250\">0.250</td>"), "{html}");
    assert!(
        html.contains("<b id=\"dead-letters\" class=\"bad\">2</b>"),
        "{html}"
    );
    assert!(html.contains("#7 &lt;script&gt;"), "{html}");
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("made &quot;to&quot; order"), "{html}");
    assert!(html.contains("<meta http-equiv=\"refresh\" content=\"5\">"));
}

#[test]
fn a_broker_it_cannot_read_is_said_not_hidden() {
    let samples = Samples::parse("orderflow_broker_connected 0\n");
    let errors = BTreeMap::new();
    let html = render(&data(
        &samples,
        Err("no broker connection".into()),
        &[],
        &errors,
        &[],
    ));
    assert!(html.contains("DISCONNECTED"), "{html}");
    assert!(
        html.contains("cannot read the queues: no broker connection"),
        "{html}"
    );
}
