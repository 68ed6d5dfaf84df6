//! Pure business-day arithmetic (see issue 4).
