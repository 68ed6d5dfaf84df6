//! Rules engine: pure (order snapshot, rules, now) -> Plan (see issue 4).
