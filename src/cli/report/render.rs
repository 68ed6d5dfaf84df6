//! The report as a person reads it (tables) and as a spreadsheet reads it (CSV, one row per
//! order). The JSON is the `Report` struct itself.

use std::fmt::Write;

use crate::report::{Durations, Report, human};

/// The CSV header; the columns are stable (README, "Fulfilment report").
pub const CSV_HEADER: &str =
    "name,id,placed,paid,fulfilled,by,rule,ship_by,on_time,late_by_seconds,holds";

pub fn csv(report: &Report) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    for r in &report.orders {
        let fields = [
            r.name.clone(),
            r.id.to_string(),
            r.placed.to_string(),
            r.paid.to_string(),
            opt(r.fulfilled),
            r.by.map(|b| b.as_str().to_owned()).unwrap_or_default(),
            r.rule.clone().unwrap_or_default(),
            opt(r.ship_by),
            r.on_time.map(|b| b.to_string()).unwrap_or_default(),
            opt(r.late_by_seconds),
            r.holds.join(";"),
        ];
        let line: Vec<String> = fields.iter().map(|f| quote(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled.
pub(crate) fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

pub fn table(r: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: orders placed from {} to {}",
        r.shop, r.since, r.until
    );
    let _ = writeln!(out);
    let rate = r
        .fulfilment_rate
        .map(|x| format!("{:.1}%", x * 100.0))
        .unwrap_or_else(|| "-".to_owned());
    for (label, value) in [
        ("placed", r.placed.to_string()),
        ("cancelled", r.cancelled.to_string()),
        ("fulfilled", r.fulfilled.to_string()),
        ("  by orderflow", r.fulfilled_by_orderflow.to_string()),
        ("  by a person", r.fulfilled_by_person.to_string()),
        ("  by both", r.fulfilled_by_both.to_string()),
        ("fulfilment rate", rate),
        ("on time", r.on_time.to_string()),
        ("late", r.late.to_string()),
        ("no ship-by", r.without_ship_by.to_string()),
    ] {
        let _ = writeln!(out, "{label:<18}{value}");
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<28}{:>6} {:>10} {:>10} {:>10}",
        "paid to fulfilled", "orders", "p50", "p90", "max"
    );
    durations_line(&mut out, "all", &r.paid_to_fulfilled);
    for (rule, d) in &r.paid_to_fulfilled_by_rule {
        durations_line(&mut out, &format!("  {rule}"), d);
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "late and still open: {}", r.late_open.len());
    for l in &r.late_open {
        let _ = writeln!(
            out,
            "  {:<10} ship by {}  late by {}",
            l.name,
            l.ship_by,
            human(l.late_by_seconds)
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<28}{:>6} {:>18}",
        "holds by reason", "on", "released by person"
    );
    if r.holds.is_empty() {
        let _ = writeln!(out, "  none");
    }
    for (handle, c) in &r.holds {
        let _ = writeln!(
            out,
            "  {handle:<26}{:>6} {:>18}",
            c.on, c.released_by_person
        );
    }
    let _ = writeln!(
        out,
        "  (holds orderflow released itself, and how long any hold lasted, are not recorded)"
    );
    out
}

fn durations_line(out: &mut String, label: &str, d: &Durations) {
    let h = |s: Option<i64>| s.map(human).unwrap_or_else(|| "-".to_owned());
    let _ = writeln!(
        out,
        "{label:<28}{:>6} {:>10} {:>10} {:>10}",
        d.count,
        h(d.p50_seconds),
        h(d.p90_seconds),
        h(d.max_seconds)
    );
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(quote("#1001"), "#1001");
        assert_eq!(quote("a,b"), "\"a,b\"");
        assert_eq!(quote("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
