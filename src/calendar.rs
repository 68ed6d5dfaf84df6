//! Pure business-day arithmetic in a shop's time zone: which days count, when the day's cut-off
//! is, and the ship-by date of a payment. No clock: every instant is an argument.
//!
//! The rule a merchant states as "paid before 13:00 on a business day ships that day":
//! - the *first counted day* of a payment is its local date when that is a business day and the
//!   local time is before the cut-off, else the next business day;
//! - `ship_by(paid, n)` is the first counted day plus `n` business days, so `n = 0` is the same
//!   business day (before the cut-off) or the next one, and `n + 1` is always exactly one
//!   business day after `n`.
//!
//! Dates are civil dates in the shop's zone, so DST changes never shift a day; only the
//! conversion of a cut-off back to an instant meets DST, see [`Calendar::cutoff_instant`].

use std::collections::BTreeSet;

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;

#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    zone: TimeZone,
    cutoff: Option<Time>,
    /// Indexed by `Weekday::to_monday_zero_offset`.
    business_days: [bool; 7],
    holidays: BTreeSet<Date>,
}

/// Why a calendar cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error(
        "no business day: a calendar needs at least one, e.g. [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]"
    )]
    NoBusinessDay,
}

impl Calendar {
    /// `cutoff = None` means a payment on a business day counts that day whatever the hour.
    pub fn new(
        zone: TimeZone,
        cutoff: Option<Time>,
        business_days: &[Weekday],
        holidays: impl IntoIterator<Item = Date>,
    ) -> Result<Self, CalendarError> {
        if business_days.is_empty() {
            return Err(CalendarError::NoBusinessDay);
        }
        let mut days = [false; 7];
        for d in business_days {
            days[d.to_monday_zero_offset() as usize] = true;
        }
        Ok(Self {
            zone,
            cutoff,
            business_days: days,
            holidays: holidays.into_iter().collect(),
        })
    }

    /// Monday to Friday, no holidays, no cut-off, UTC: the calendar of a shop that wrote none.
    pub fn weekdays(zone: TimeZone) -> Self {
        use Weekday::*;
        Self::new(
            zone,
            None,
            &[Monday, Tuesday, Wednesday, Thursday, Friday],
            [],
        )
        .expect("five business days")
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    pub fn cutoff(&self) -> Option<Time> {
        self.cutoff
    }

    pub fn business_days(&self) -> Vec<Weekday> {
        (0..7)
            .filter(|&i| self.business_days[i as usize])
            .map(|i| Weekday::from_monday_zero_offset(i).expect("0..7 is a weekday"))
            .collect()
    }

    pub fn holidays(&self) -> impl Iterator<Item = Date> + '_ {
        self.holidays.iter().copied()
    }

    pub fn is_business_day(&self, date: Date) -> bool {
        self.business_days[date.weekday().to_monday_zero_offset() as usize]
            && !self.holidays.contains(&date)
    }

    /// The first business day strictly after `date`. Terminates because at least one weekday
    /// is a business day and holidays are finite; at the end of jiff's range it returns the last
    /// date it could reach.
    pub fn next_business_day(&self, date: Date) -> Date {
        let mut d = date;
        for _ in 0..self.holidays.len() + 8 {
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => return d,
            }
            if self.is_business_day(d) {
                return d;
            }
        }
        d
    }

    /// `date` moved forward by `n` business days.
    pub fn add_business_days(&self, date: Date, n: u32) -> Date {
        (0..n).fold(date, |d, _| self.next_business_day(d))
    }

    /// The local date a payment at `paid` starts counting from (see the module docs).
    pub fn first_counted_day(&self, paid: Timestamp) -> Date {
        let local = paid.to_zoned(self.zone.clone());
        let date = local.date();
        let before_cutoff = self.cutoff.is_none_or(|c| local.time() < c);
        if self.is_business_day(date) && before_cutoff {
            date
        } else {
            self.next_business_day(date)
        }
    }

    /// The ship-by date of a payment at `paid` with `days` business days of processing.
    pub fn ship_by(&self, paid: Timestamp, days: u32) -> Date {
        self.add_business_days(self.first_counted_day(paid), days)
    }

    /// The instant a day's cut-off happens in the shop's zone (midnight without a cut-off).
    /// A cut-off inside a DST gap (02:30 on a spring-forward night) does not exist; it resolves
    /// forward by the gap's length (03:30), so a hold is never released early. A cut-off inside
    /// a fold (autumn) takes the earlier of its two instants.
    pub fn cutoff_instant(&self, date: Date) -> Timestamp {
        let time = self.cutoff.unwrap_or(Time::midnight());
        self.zone
            .to_ambiguous_timestamp(date.to_datetime(time))
            .compatible()
            .unwrap_or(Timestamp::MAX)
    }
}

#[cfg(test)]
mod tests;
