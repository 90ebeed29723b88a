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
use kontingent::{ReservationId, ReservationState};
use std::collections::BTreeMap;
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
            if let Some(p) = &pool {
                if ledger.pool(p).is_none() {
                    return Err(ErrorInfo::from(&kontingent::Error::UnknownPool {
                        field: "pool".into(),
                        name: crate::reply::bounded(p),
                    }));
                }
            }
            let draws: BTreeMap<String, Vec<(String, u64)>> = ledger
                .offers()
                .into_iter()
                .map(|o| (o.name, o.draws))
                .collect();
            let mut out = String::from(
                "reservation,state,customer,channel,offer,quantity,pool,units,expires_at\n",
            );
            for id in 1.. {
                let Some(r) = ledger.reservation(ReservationId(id)) else {
                    break;
                };
                let state = match r.state {
                    ReservationState::Held => "held",
                    ReservationState::Confirmed => "confirmed",
                    _ => continue,
                };
                for (offer, quantity) in &r.lines {
                    for (p, amount) in draws.get(offer).into_iter().flatten() {
                        if pool.as_ref().is_some_and(|want| want != p) {
                            continue;
                        }
                        let units = quantity.saturating_mul(*amount);
                        let _ = writeln!(
                            out,
                            "{},{state},{},{},{},{quantity},{},{units},{}",
                            r.id.0,
                            cell(&r.customer),
                            cell(&r.channel),
                            cell(offer),
                            cell(p),
                            r.expires_at
                        );
                    }
                }
            }
            Ok(out)
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
