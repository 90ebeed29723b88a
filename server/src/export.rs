//! Reservations as CSV, for the restaurants: who holds what, per pool. Held and
//! confirmed reservations only (what is promised), one row per line and pool
//! drawn. Cells that a spreadsheet would run as a formula are quoted with a
//! leading `'` (CSV injection), and every cell is quoted where CSV needs it.

use crate::api::authorized;
use crate::auth::Role;
use crate::reply::Failure;
use crate::state::{blocking, App};
use crate::wire::Path;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use kontingent::host::ErrorInfo;
use kontingent::ReservationState;
use std::fmt::Write;

/// `GET /v1/ledgers/{ledger}/reservations.csv[?pool=NAME]` (operator).
pub(crate) async fn reservations_csv(
    State(app): State<App>,
    Path(ledger): Path<String>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Result<impl IntoResponse, Failure> {
    let l = authorized(&app, &headers, Role::Operator, &ledger)?;
    let params = crate::api::params(raw, &["pool"])?;
    let pool = params.get("pool").cloned();
    let csv = blocking(move || {
        l.read(|ledger| {
            let rows = ledger
                .holdings(pool.as_deref())
                .map_err(|e| ErrorInfo::from(&e))?;
            let mut out = String::from(
                "reservation,state,customer,channel,offer,quantity,pool,units,expires_at\n",
            );
            for h in rows {
                let state = match h.state {
                    ReservationState::Confirmed => "confirmed",
                    _ => "held",
                };
                let _ = writeln!(
                    out,
                    "{},{state},{},{},{},{},{},{},{}",
                    h.reservation.0,
                    cell(&h.customer),
                    cell(&h.channel),
                    cell(&h.offer),
                    h.quantity,
                    cell(&h.pool),
                    h.units,
                    h.expires_at
                );
            }
            Ok::<_, ErrorInfo>(out)
        })
    })
    .await??
    .map_err(Failure::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"reservations.csv\"",
            ),
        ],
        csv,
    ))
}

/// One CSV cell: quoted if it holds a comma, quote or line break; a leading
/// `=`, `+`, `-`, `@` (a formula to a spreadsheet) is defused with `'`.
fn cell(s: &str) -> String {
    let defused = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        assert_eq!(cell("anna"), "anna");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "'-1");
    }
}
