use jiff::civil::{Weekday, date, time};
use proptest::prelude::*;

use super::*;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn shop(zone: &str, cutoff: &str, holidays: &[&str]) -> Calendar {
    use Weekday::*;
    Calendar::new(
        TimeZone::get(zone).unwrap(),
        Some(cutoff.parse().unwrap()),
        &[Monday, Tuesday, Wednesday, Thursday, Friday],
        holidays.iter().map(|d| d.parse().unwrap()),
    )
    .unwrap()
}

fn amsterdam() -> Calendar {
    shop("Europe/Amsterdam", "13:00", &["2026-12-25", "2026-12-26"])
}

#[test]
fn calendar_cases() {
    // (calendar, paid instant, days, expected ship-by date, why)
    let ams = amsterdam();
    let ny = shop("America/New_York", "13:00", &[]);
    let akl = shop("Pacific/Auckland", "13:00", &[]);
    let cases: &[(&Calendar, &str, u32, &str, &str)] = &[
        (
            &ams,
            "2026-11-23T11:59:00Z",
            3,
            "2026-11-26",
            "Mon 12:59 CET counts Monday",
        ),
        (
            &ams,
            "2026-11-23T12:01:00Z",
            3,
            "2026-11-27",
            "Mon 13:01 CET counts Tuesday",
        ),
        (
            &ams,
            "2026-11-23T12:00:00Z",
            0,
            "2026-11-24",
            "exactly at the cut-off is not before it",
        ),
        (
            &ams,
            "2026-11-23T11:00:00Z",
            0,
            "2026-11-23",
            "days 0 before the cut-off: same day",
        ),
        (
            &ams,
            "2026-11-27T13:30:00Z",
            0,
            "2026-11-30",
            "Friday after the cut-off: Monday",
        ),
        (
            &ams,
            "2026-11-27T13:30:00Z",
            1,
            "2026-12-01",
            "Friday after the cut-off + 1: Tuesday",
        ),
        (
            &ams,
            "2026-11-28T09:00:00Z",
            0,
            "2026-11-30",
            "Saturday: Monday",
        ),
        (
            &ams,
            "2026-12-24T10:00:00Z",
            1,
            "2026-12-28",
            "Christmas and the weekend in the way",
        ),
        (
            &ams,
            "2026-12-25T10:00:00Z",
            0,
            "2026-12-28",
            "paid on a holiday: next business day",
        ),
        // Spring forward (29 March 2026): 11:30Z is 12:30 CET on Friday, 13:30 CEST on Monday.
        (
            &ams,
            "2026-03-27T11:30:00Z",
            0,
            "2026-03-27",
            "Friday 12:30 CET before the cut-off",
        ),
        (
            &ams,
            "2026-03-30T11:30:00Z",
            0,
            "2026-03-31",
            "Monday 13:30 CEST after the cut-off",
        ),
        (
            &ams,
            "2026-03-27T13:00:00Z",
            1,
            "2026-03-31",
            "over the DST weekend",
        ),
        // Fall back (25 October 2026): 11:30Z is 13:30 CEST on Friday, 12:30 CET on Monday.
        (
            &ams,
            "2026-10-23T11:30:00Z",
            0,
            "2026-10-26",
            "Friday 13:30 CEST after the cut-off",
        ),
        (
            &ams,
            "2026-10-26T11:30:00Z",
            0,
            "2026-10-26",
            "Monday 12:30 CET before the cut-off",
        ),
        // New York springs forward on 8 March 2026, falls back on 1 November 2026.
        (
            &ny,
            "2026-03-06T17:30:00Z",
            0,
            "2026-03-06",
            "Friday 12:30 EST before the cut-off",
        ),
        (
            &ny,
            "2026-03-09T17:30:00Z",
            0,
            "2026-03-10",
            "Monday 13:30 EDT after the cut-off",
        ),
        (
            &ny,
            "2026-10-30T17:30:00Z",
            0,
            "2026-11-02",
            "Friday 13:30 EDT after the cut-off",
        ),
        (
            &ny,
            "2026-11-02T17:30:00Z",
            0,
            "2026-11-02",
            "Monday 12:30 EST before the cut-off",
        ),
        (
            &ny,
            "2026-11-24T03:00:00Z",
            0,
            "2026-11-24",
            "UTC Tuesday 03:00 is Monday 22:00 EST",
        ),
        // Auckland is UTC+13 in November: the UTC date is a day behind.
        (
            &akl,
            "2026-11-22T20:00:00Z",
            0,
            "2026-11-23",
            "UTC Sunday is Monday 09:00 NZDT",
        ),
        (
            &akl,
            "2026-11-23T00:30:00Z",
            2,
            "2026-11-26",
            "Monday 13:30 NZDT is after the cut-off",
        ),
    ];
    for (cal, paid, days, want, why) in cases {
        let got = cal.ship_by(ts(paid), *days);
        assert_eq!(got.to_string(), *want, "{why} (paid {paid}, {days} days)");
    }
}

#[test]
fn cutoff_instant_follows_the_zone_offset() {
    let ams = amsterdam();
    assert_eq!(
        ams.cutoff_instant(date(2026, 3, 27)),
        ts("2026-03-27T12:00:00Z")
    );
    assert_eq!(
        ams.cutoff_instant(date(2026, 3, 30)),
        ts("2026-03-30T11:00:00Z")
    );
    let akl = shop("Pacific/Auckland", "13:00", &[]);
    assert_eq!(
        akl.cutoff_instant(date(2026, 11, 23)),
        ts("2026-11-23T00:00:00Z")
    );
}

#[test]
fn cutoff_inside_a_dst_gap_resolves_forward() {
    use Weekday::*;
    let cal = Calendar::new(
        TimeZone::get("Europe/Amsterdam").unwrap(),
        Some(time(2, 30, 0, 0)),
        &[
            Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
        ],
        [],
    )
    .unwrap();
    // 02:30 does not exist on 29 March 2026; 03:30 CEST is 01:30Z.
    assert_eq!(
        cal.cutoff_instant(date(2026, 3, 29)),
        ts("2026-03-29T01:30:00Z")
    );
}

#[test]
fn without_a_cutoff_any_hour_of_a_business_day_counts() {
    let cal = Calendar::weekdays(TimeZone::UTC);
    assert_eq!(
        cal.ship_by(ts("2026-11-23T23:59:00Z"), 0),
        date(2026, 11, 23)
    );
    assert_eq!(
        cal.cutoff_instant(date(2026, 11, 23)),
        ts("2026-11-23T00:00:00Z")
    );
}

#[test]
fn a_calendar_needs_a_business_day() {
    assert_eq!(
        Calendar::new(TimeZone::UTC, None, &[], []),
        Err(CalendarError::NoBusinessDay)
    );
}

fn arb_calendar() -> impl Strategy<Value = Calendar> {
    let zones = prop::sample::select(vec![
        "UTC",
        "Europe/Amsterdam",
        "America/New_York",
        "Pacific/Auckland",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
    ]);
    (
        zones,
        prop::option::of((0i8..24, 0i8..60)),
        1u8..128,
        prop::collection::vec(0i16..730, 0..30),
    )
        .prop_map(|(zone, cutoff, mask, holidays)| {
            let days: Vec<Weekday> = (0..7)
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| Weekday::from_monday_zero_offset(i).unwrap())
                .collect();
            let start = date(2026, 1, 1);
            Calendar::new(
                TimeZone::get(zone).unwrap(),
                cutoff.map(|(h, m)| time(h, m, 0, 0)),
                &days,
                holidays
                    .into_iter()
                    .map(|d| start.checked_add(jiff::Span::new().days(d)).unwrap()),
            )
            .unwrap()
        })
}

fn arb_paid() -> impl Strategy<Value = Timestamp> {
    // 2025-06-01 .. 2028-01-01
    (1_748_736_000i64..1_830_297_600).prop_map(|s| Timestamp::from_second(s).unwrap())
}

proptest! {
    #[test]
    fn ship_by_is_a_business_day_not_before_the_paid_day(
        cal in arb_calendar(), paid in arb_paid(), days in 0u32..30,
    ) {
        let ship_by = cal.ship_by(paid, days);
        prop_assert!(cal.is_business_day(ship_by));
        prop_assert!(ship_by >= paid.to_zoned(cal.zone().clone()).date());
    }

    #[test]
    fn one_more_day_is_exactly_the_next_business_day(
        cal in arb_calendar(), paid in arb_paid(), days in 0u32..30,
    ) {
        let a = cal.ship_by(paid, days);
        let b = cal.ship_by(paid, days + 1);
        prop_assert!(b > a);
        prop_assert_eq!(b, cal.next_business_day(a));
        let between = a.series(jiff::Span::new().days(1)).skip(1).take_while(|d| *d < b);
        for d in between {
            prop_assert!(!cal.is_business_day(d), "{} lies between {} and {}", d, a, b);
        }
    }

    #[test]
    fn ship_by_is_monotone_in_days_and_paid_time(
        cal in arb_calendar(), paid in arb_paid(), days in 0u32..30, more in 0u32..10,
        later in 0i64..400_000,
    ) {
        prop_assert!(cal.ship_by(paid, days) <= cal.ship_by(paid, days + more));
        let paid_later = paid.checked_add(jiff::SignedDuration::from_secs(later)).unwrap();
        prop_assert!(cal.ship_by(paid, days) <= cal.ship_by(paid_later, days));
    }
}
