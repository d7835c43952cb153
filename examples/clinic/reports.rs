//! Admin reports, computed by the database with aggregations: a day's revenue (the
//! clinic's day, in its time zone) and each dentist's production over a period. Also the
//! audit log: who viewed or changed which patient, and when.

use axum::extract::State;
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use starter::{
    ApiError,
    auth::AuthUser,
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidQuery},
    mongo::{
        DbError, Repository, Sort,
        bson::{Bson, Document, doc},
        oid,
    },
};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::{
    appointments::PersonRef,
    models::{ADMIN, AuditEntry, ClinicState, allow, rfc3339},
};

/// The report and audit routes.
pub fn router(state: ClinicState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(daily))
        .routes(routes!(production))
        .routes(routes!(audit))
        .with_state(state)
}

/// The longest period a production report covers.
const MAX_REPORT_DAYS: i32 = 366;
/// The most audit entries one answer lists.
const MAX_AUDIT: i64 = 1000;

/// A count and a sum of money.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Tally {
    pub count: i64,
    pub total_krw: i64,
}

/// `GET /api/reports/daily`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DailyReport {
    #[schema(format = Date)]
    pub date: String,
    /// Payments minus refunds.
    pub revenue_krw: i64,
    pub payments: Tally,
    pub refunds: Tally,
}

/// A dentist's production: the catalogue fees of the treatments they recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct Production {
    pub dentist: PersonRef,
    pub total_krw: i64,
    pub treatments: i64,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    #[schema(format = DateTime)]
    pub at: String,
    pub actor_id: String,
    /// `view` or `change`.
    pub action: String,
    pub patient_id: String,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    /// `YYYY-MM-DD`, a day in the clinic's time zone.
    pub date: String,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First day, `YYYY-MM-DD`, in the clinic's time zone.
    pub from: String,
    /// Last day, included.
    pub to: String,
}

#[derive(Debug, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Only this patient's entries.
    pub patient_id: Option<String>,
}

/// `YYYY-MM-DD` of field `field`.
fn parse_date(field: &str, value: &str) -> Result<jiff::civil::Date, ApiError> {
    value
        .parse::<jiff::civil::Date>()
        .ok()
        .filter(|_| value.len() == 10)
        .ok_or_else(|| ApiError::invalid_field(field, "date", "must be a date as YYYY-MM-DD"))
}

/// Runs an aggregation `pipeline` on `repo`'s collection.
async fn aggregate<T>(
    repo: &Repository<T>,
    pipeline: Vec<Document>,
) -> Result<Vec<Document>, DbError>
where
    T: Serialize + DeserializeOwned + Send + Sync + Unpin,
{
    Ok(repo
        .collection()
        .aggregate(pipeline)
        .await?
        .try_collect()
        .await?)
}

/// A `$sum` of a group: an int32 or int64, as the server chose.
fn int(doc: &Document, key: &str) -> i64 {
    match doc.get(key) {
        Some(Bson::Int64(n)) => *n,
        Some(Bson::Int32(n)) => i64::from(*n),
        _ => 0,
    }
}

/// A day's payments and refunds. Admin only.
#[utoipa::path(get, path = "/reports/daily", tag = "reports", security(("bearer" = [])),
    params(DayQuery),
    responses((status = 200, description = "The day's revenue", body = DailyReport)))]
async fn daily(
    State(s): State<ClinicState>,
    user: AuthUser,
    ValidQuery(q): ValidQuery<DayQuery>,
) -> Result<Json<DailyReport>, ApiError> {
    allow(&user, &[ADMIN])?;
    let day = parse_date("date", &q.date)?;
    let groups = aggregate(
        &s.payments,
        vec![
            doc! { "$match": { "day": day.to_string() } },
            doc! { "$group": { "_id": "$kind", "count": { "$sum": 1 },
            "total": { "$sum": "$amount_krw" } } },
        ],
    )
    .await?;
    let mut report = DailyReport {
        date: day.to_string(),
        revenue_krw: 0,
        payments: Tally::default(),
        refunds: Tally::default(),
    };
    for group in groups {
        let tally = Tally {
            count: int(&group, "count"),
            total_krw: int(&group, "total"),
        };
        match group.get_str("_id") {
            Ok("payment") => report.payments = tally,
            Ok("refund") => report.refunds = tally,
            _ => {}
        }
    }
    report.revenue_krw = report.payments.total_krw - report.refunds.total_krw;
    Ok(Json(report))
}

/// Each dentist's production from `from` to `to` (days included), largest first. Admin
/// only.
#[utoipa::path(get, path = "/reports/production", tag = "reports", security(("bearer" = [])),
    params(PeriodQuery),
    responses((status = 200, description = "Production per dentist", body = Vec<Production>)))]
async fn production(
    State(s): State<ClinicState>,
    user: AuthUser,
    ValidQuery(q): ValidQuery<PeriodQuery>,
) -> Result<Json<Vec<Production>>, ApiError> {
    allow(&user, &[ADMIN])?;
    let (first, last) = (parse_date("from", &q.from)?, parse_date("to", &q.to)?);
    let span = (last - first).get_days();
    if !(0..MAX_REPORT_DAYS).contains(&span) {
        return Err(ApiError::invalid_field(
            "to",
            "period",
            format!("must be on or after `from`, and at most {MAX_REPORT_DAYS} days later"),
        ));
    }
    let groups = aggregate(
        &s.treatments,
        vec![
            // `YYYY-MM-DD` strings order as the days do.
            doc! { "$match": { "day": { "$gte": first.to_string(), "$lte": last.to_string() } } },
            doc! { "$group": { "_id": "$dentist_id", "name": { "$first": "$dentist_name" },
            "total": { "$sum": "$fee_krw" }, "count": { "$sum": 1 } } },
            doc! { "$sort": { "total": -1, "_id": 1 } },
        ],
    )
    .await?;
    let rows = groups
        .iter()
        .map(|g| Production {
            dentist: PersonRef {
                id: g.get_str("_id").unwrap_or_default().to_owned(),
                name: g.get_str("name").unwrap_or_default().into(),
            },
            total_krw: int(g, "total"),
            treatments: int(g, "count"),
        })
        .collect();
    Ok(Json(rows))
}

/// Who viewed or changed patient records, newest first. Admin only.
#[utoipa::path(get, path = "/audit", tag = "reports", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, description = "The audit log", body = Vec<AuditOut>)))]
async fn audit(
    State(s): State<ClinicState>,
    user: AuthUser,
    ValidQuery(q): ValidQuery<AuditQuery>,
) -> Result<Json<Vec<AuditOut>>, ApiError> {
    allow(&user, &[ADMIN])?;
    let mut filter = Document::new();
    if let Some(patient) = &q.patient_id {
        filter.insert("patient_id", oid::parse("patient_id", patient)?.to_hex());
    }
    let entries: Vec<AuditEntry> = s.audit.list(filter, Sort::desc("at"), MAX_AUDIT).await?;
    Ok(Json(
        entries
            .into_iter()
            .map(|e| AuditOut {
                at: rfc3339(e.at),
                actor_id: e.actor_id,
                action: e.action,
                patient_id: e.patient_id,
            })
            .collect(),
    ))
}
