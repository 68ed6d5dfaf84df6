//! (in progress: issue 2)
