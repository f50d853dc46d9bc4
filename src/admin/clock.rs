//! `GET` and `POST /clock`: the time the engine reads, moved, frozen or reset by a test.

use actix_web::web;
use serde::Deserialize;
use serde_json::{Value, json};

use super::body::Json;
use super::{AdminError, Answer, Routes, bad_request, ok};
use crate::clock::{Clock, MAX_OFFSET_SECS};
use crate::engine::Engine;

pub fn routes(cfg: &mut Routes) {
    cfg.at("/clock").get(show).post(change);
}

async fn show(engine: web::Data<Engine>) -> Answer {
    ok(now(&engine.clock))
}

fn now(clock: &Clock) -> Value {
    json!({"now": clock.now(), "offset_secs": clock.offset(), "frozen": clock.is_frozen()})
}

/// `POST /_mockidp/clock`: at most one move (`advance_secs`, `offset_secs` from real time, or
/// `now`, seconds since the epoch), then `freeze` true or false; or `reset` alone.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    advance_secs: Option<i64>,
    offset_secs: Option<i64>,
    now: Option<u64>,
    freeze: Option<bool>,
    #[serde(default)]
    reset: bool,
}

impl ClockChange {
    /// How many of the three moves the change asks for.
    fn moves(&self) -> usize {
        [
            self.advance_secs.is_some(),
            self.offset_secs.is_some(),
            self.now.is_some(),
        ]
        .into_iter()
        .filter(|m| *m)
        .count()
    }
}

/// Applies the change, or refuses it before anything changed.
async fn change(engine: web::Data<Engine>, Json(change): Json<ClockChange>) -> Answer {
    let clock = &engine.clock;
    if change.reset {
        if change.moves() > 0 || change.freeze.is_some() {
            return Err(bad_request("reset takes no other field".into()));
        }
        clock.reset();
        tracing::info!("clock reset to real time by the admin API");
        return ok(now(clock));
    }
    if change.moves() > 1 || (change.moves() == 0 && change.freeze.is_none()) {
        return Err(bad_request(
            "send at most one of advance_secs, offset_secs, now; with or without freeze; or reset"
                .into(),
        ));
    }
    check_offset(clock, &change)?;
    apply(clock, &change);
    tracing::info!(
        now = clock.now(),
        frozen = clock.is_frozen(),
        "clock changed by the admin API"
    );
    ok(now(clock))
}

/// Refuses a move that would leave the clock over [`MAX_OFFSET_SECS`] from real time.
fn check_offset(clock: &Clock, change: &ClockChange) -> Result<(), AdminError> {
    let offset = match (change.advance_secs, change.offset_secs, change.now) {
        (Some(d), None, None) => clock.offset().checked_add(d),
        (None, Some(o), None) => Some(o),
        (None, None, Some(t)) => i64::try_from(t)
            .ok()
            .and_then(|t| t.checked_sub(crate::clock::real_now())),
        _ => return Ok(()),
    };
    if offset.is_none_or(|o| o.unsigned_abs() > MAX_OFFSET_SECS.unsigned_abs()) {
        return Err(bad_request(format!(
            "the clock may be moved at most {MAX_OFFSET_SECS} seconds (100 years) from real time"
        )));
    }
    Ok(())
}

/// The move, then the freeze.
fn apply(clock: &Clock, change: &ClockChange) {
    match (change.advance_secs, change.offset_secs, change.now) {
        (Some(d), _, _) => clock.advance(d),
        (_, Some(o), _) => clock.set_offset(o),
        (_, _, Some(t)) => clock.set(t),
        _ => {}
    }
    match change.freeze {
        Some(true) => clock.freeze(),
        Some(false) => clock.unfreeze(),
        None => {}
    }
}
