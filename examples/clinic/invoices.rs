//! Invoices and payments. An invoice copies the appointment's treatments at the fees of
//! the day it is issued (a later fee change never alters it), minus a discount. A payment
//! or a refund changes the invoice's totals in one atomic update whose filter is the rule
//! itself: a payment only while it fits the balance (else 422 `overpayment`), a refund
//! only up to what was paid and not yet refunded. `balance = total − paid + refunded`,
//! always. The payment's own record is written next (its own collection; if that write
//! fails, the totals are put back).
//!
//! A payment needs an `Idempotency-Key` header: the key is stored per invoice under a
//! unique index before the payment is made, with the answer once it is. A retried request
//! (a timeout, a double click) gets the first answer and is never charged twice.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
};
use serde::{Deserialize, Serialize};
use starter::{
    ApiError,
    auth::AuthUser,
    docs::{OpenApiRouter, routes},
    extract::{Json, ValidJson},
    mongo::{
        DbError, Sort,
        bson::{DateTime, Document, doc, oid::ObjectId},
        oid::{self, IdPath},
    },
};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::{
    appointments::PersonRef,
    models::{
        ClinicState, FRONT_DESK, IdempotencyRecord, Invoice, InvoiceLine, Payment, STAFF, allow,
        not_found, rfc3339, string_enum,
    },
};

/// The invoice routes.
pub fn router(state: ClinicState) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(read))
        .routes(routes!(of_patient))
        .routes(routes!(pay))
        .routes(routes!(refund))
        .with_state(state)
}

/// The header of a payment's idempotency key.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
/// A cap on one amount, far above any dental bill: sums stay far from `i64` overflow.
const MAX_AMOUNT_KRW: i64 = 1_000_000_000;

// ------------------------------------------------------------------------- HTTP shapes

/// How money moves.
pub const METHODS: &[&str] = &["card", "cash", "transfer"];

fn method_schema() -> utoipa::openapi::Object {
    string_enum(METHODS)
}

fn kind_schema() -> utoipa::openapi::Object {
    string_enum(&["payment", "refund"])
}

/// A payment or a refund of an invoice.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentOut {
    pub id: String,
    pub amount_krw: i64,
    #[schema(schema_with = method_schema)]
    pub method: String,
    #[schema(format = DateTime)]
    pub at: String,
    /// `payment` or `refund`.
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An invoice with its payments.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvoiceOut {
    #[serde(with = "oid::hex")]
    #[schema(value_type = String)]
    pub id: ObjectId,
    pub patient: PersonRef,
    pub appointment_id: String,
    #[schema(format = DateTime)]
    pub issued_at: String,
    pub lines: Vec<InvoiceLine>,
    pub subtotal_krw: i64,
    pub discount_krw: i64,
    pub total_krw: i64,
    pub paid_krw: i64,
    pub refunded_krw: i64,
    /// `total_krw - paid_krw + refunded_krw`.
    pub balance_krw: i64,
    pub payments: Vec<PaymentOut>,
}

impl InvoiceOut {
    fn new(i: Invoice, payments: Vec<Payment>) -> Self {
        Self {
            id: i.id,
            patient: PersonRef {
                id: i.patient_id,
                name: i.patient_name,
            },
            appointment_id: i.appointment_id,
            issued_at: rfc3339(i.issued_at),
            lines: i.lines,
            subtotal_krw: i.subtotal_krw,
            discount_krw: i.discount_krw,
            total_krw: i.total_krw,
            paid_krw: i.paid_krw,
            refunded_krw: i.refunded_krw,
            balance_krw: i.balance_krw,
            payments: payments
                .into_iter()
                .map(|p| PaymentOut {
                    id: p.id.to_hex(),
                    amount_krw: p.amount_krw,
                    method: p.method,
                    at: rfc3339(p.at),
                    kind: p.kind,
                    reason: p.reason,
                })
                .collect(),
        }
    }
}

/// The most payments one invoice lists (a bill is paid in a few parts, not hundreds).
const MAX_PAYMENTS: i64 = 500;

/// `invoice` with its payments, oldest first.
async fn with_payments(s: &ClinicState, invoice: Invoice) -> Result<InvoiceOut, ApiError> {
    let payments = s
        .payments
        .list(
            doc! { "invoice_id": invoice.id.to_hex() },
            Sort::asc("at"),
            MAX_PAYMENTS,
        )
        .await?;
    Ok(InvoiceOut::new(invoice, payments))
}

/// Writes the record of a payment or refund whose totals `undo` just changed; if that
/// fails, applies `undo` to put the totals back, so they never count a missing record.
async fn write_record(
    s: &ClinicState,
    invoice: ObjectId,
    payment: &Payment,
    undo: Document,
) -> Result<(), ApiError> {
    if let Err(e) = s.payments.insert(payment).await {
        s.invoices
            .update_one(doc! { "_id": invoice }, doc! { "$inc": undo })
            .await?;
        return Err(e.into());
    }
    Ok(())
}

/// The body of `POST /api/invoices`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInvoice {
    pub appointment_id: String,
    /// Whole won off the subtotal; at most the subtotal.
    #[serde(default)]
    #[validate(range(min = 0, max = MAX_AMOUNT_KRW))]
    pub discount_krw: i64,
}

/// The body of `POST /api/invoices/{id}/payments`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount_krw": 50000, "method": "card"}))]
pub struct NewPayment {
    #[validate(range(min = 1, max = MAX_AMOUNT_KRW))]
    pub amount_krw: i64,
    /// `card`, `cash` or `transfer`.
    #[validate(custom(function = "payment_method"))]
    #[schema(schema_with = method_schema)]
    pub method: String,
}

/// The body of `POST /api/invoices/{id}/refunds`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRefund {
    #[validate(range(min = 1, max = MAX_AMOUNT_KRW))]
    pub amount_krw: i64,
    #[validate(length(min = 1, max = 500))]
    pub reason: String,
    /// How the money goes back; the last payment's method when left out.
    #[validate(custom(function = "payment_method"))]
    #[schema(schema_with = method_schema)]
    pub method: Option<String>,
}

fn payment_method(method: &str) -> Result<(), ValidationError> {
    if METHODS.contains(&method) {
        Ok(())
    } else {
        let mut err = ValidationError::new("method");
        err.message = Some("must be card, cash or transfer".into());
        Err(err)
    }
}

// ---------------------------------------------------------------------------- handlers

/// Issues the invoice of an appointment from its treatments, at today's fees. Receptionist
/// or admin. One invoice per appointment (409 `invoice_exists`).
#[utoipa::path(post, path = "/invoices", operation_id = "create_invoice", tag = "invoices", security(("bearer" = [])),
    request_body = NewInvoice,
    responses((status = 201, description = "Issued", body = InvoiceOut),
        (status = 409, description = "The appointment has an invoice (`invoice_exists`)")))]
async fn create(
    State(s): State<ClinicState>,
    user: AuthUser,
    ValidJson(input): ValidJson<NewInvoice>,
) -> Result<(StatusCode, Json<InvoiceOut>), ApiError> {
    allow(&user, FRONT_DESK)?;
    let appointment_id = oid::parse("appointment_id", &input.appointment_id)?;
    let appointment = s.appointments.get(appointment_id).await?.ok_or_else(|| {
        ApiError::invalid_field(
            "appointment_id",
            "unknown_appointment",
            "is not an appointment",
        )
    })?;
    let treatments = s
        .treatments
        .list(
            doc! { "appointment_id": appointment_id.to_hex() },
            Sort::asc("created_at"),
            200,
        )
        .await?;
    if treatments.is_empty() {
        return Err(ApiError::invalid_field(
            "appointment_id",
            "no_treatments",
            "the appointment has no treatment to bill",
        ));
    }
    let mut lines = Vec::with_capacity(treatments.len());
    for t in treatments {
        let procedure_id = oid::parse("procedure_id", &t.procedure_id)?;
        // Today's fee, copied: the invoice never reads the catalogue again.
        let fee_krw = s
            .procedures
            .get(procedure_id)
            .await?
            .map(|p| p.fee_krw)
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a treated procedure is gone")))?;
        lines.push(InvoiceLine {
            code: t.code,
            name: t.name,
            fee_krw,
            teeth: t.teeth,
        });
    }
    let subtotal_krw: i64 = lines.iter().map(|l| l.fee_krw).sum();
    if input.discount_krw > subtotal_krw {
        return Err(ApiError::invalid_field(
            "discount_krw",
            "exceeds_subtotal",
            format!("must be at most the subtotal, {subtotal_krw}"),
        ));
    }
    let total_krw = subtotal_krw - input.discount_krw;
    let invoice = Invoice {
        id: ObjectId::new(),
        patient_id: appointment.patient_id,
        patient_name: appointment.patient_name,
        appointment_id: appointment_id.to_hex(),
        issued_at: DateTime::now(),
        lines,
        subtotal_krw,
        discount_krw: input.discount_krw,
        total_krw,
        paid_krw: 0,
        refunded_krw: 0,
        balance_krw: total_krw,
        net_paid_krw: 0,
    };
    match s.invoices.insert(&invoice).await {
        Ok(_) => Ok((
            StatusCode::CREATED,
            Json(InvoiceOut::new(invoice, Vec::new())),
        )),
        Err(e) if e.is_duplicate_key() => Err(ApiError::conflict(
            "this appointment already has an invoice",
        )
        .with_code("invoice_exists")),
        Err(e) => Err(e.into()),
    }
}

/// An invoice with its payments. Receptionist, admin, or a dentist (reading).
#[utoipa::path(get, path = "/invoices/{id}", operation_id = "read_invoice", tag = "invoices", security(("bearer" = [])),
    params(("id" = String, Path, description = "The invoice's id")),
    responses((status = 200, description = "The invoice", body = InvoiceOut),
        (status = 404, description = "No such invoice (`not_found`)")))]
async fn read(
    State(s): State<ClinicState>,
    user: AuthUser,
    IdPath(id): IdPath,
) -> Result<Json<InvoiceOut>, ApiError> {
    allow(&user, STAFF)?;
    let invoice = s
        .invoices
        .get(id)
        .await?
        .ok_or_else(|| not_found("invoice", id))?;
    Ok(Json(with_payments(&s, invoice).await?))
}

/// A patient's invoices, newest first. Receptionist, admin, or a dentist (reading).
#[utoipa::path(get, path = "/patients/{id}/invoices", tag = "invoices", security(("bearer" = [])),
    params(("id" = String, Path, description = "The patient's id")),
    responses((status = 200, description = "The invoices", body = Vec<InvoiceOut>)))]
async fn of_patient(
    State(s): State<ClinicState>,
    user: AuthUser,
    IdPath(id): IdPath,
) -> Result<Json<Vec<InvoiceOut>>, ApiError> {
    allow(&user, STAFF)?;
    let invoices = s
        .invoices
        .list(
            doc! { "patient_id": id.to_hex() },
            Sort::desc("issued_at"),
            500,
        )
        .await?;
    let mut out = Vec::with_capacity(invoices.len());
    for invoice in invoices {
        out.push(with_payments(&s, invoice).await?);
    }
    Ok(Json(out))
}

/// The `Idempotency-Key` header: 1 to 200 visible ASCII characters, required.
fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let missing = || {
        ApiError::bad_request(
            "a payment needs an Idempotency-Key header (1 to 200 visible ASCII characters)",
        )
        .with_code("idempotency_key_required")
    };
    let key = headers
        .get(IDEMPOTENCY_KEY)
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?;
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(missing());
    }
    Ok(key.to_owned())
}

/// Records a payment. Receptionist or admin; `Idempotency-Key` required. 422
/// `overpayment` when the amount is over the balance.
#[utoipa::path(post, path = "/invoices/{id}/payments", tag = "invoices", security(("bearer" = [])),
    params(("id" = String, Path, description = "The invoice's id"),
        ("Idempotency-Key" = String, Header, description = "One key per intended payment; a retry sends the same key")),
    request_body = NewPayment,
    responses((status = 201, description = "Recorded (or recorded before with this key)", body = InvoiceOut),
        (status = 400, description = "No key (`idempotency_key_required`)"),
        (status = 404, description = "No such invoice (`not_found`)"),
        (status = 409, description = "The first request with this key is still running (`idempotency_in_progress`)"),
        (status = 422, description = "Over the balance (`overpayment`), or the key was used for another payment (`idempotency_key_reused`)")))]
async fn pay(
    State(s): State<ClinicState>,
    user: AuthUser,
    IdPath(id): IdPath,
    headers: HeaderMap,
    ValidJson(input): ValidJson<NewPayment>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    allow(&user, FRONT_DESK)?;
    let key = idempotency_key(&headers)?;
    let request = format!("payment:{}:{}", input.amount_krw, input.method);
    let record = IdempotencyRecord {
        id: ObjectId::new(),
        invoice_id: id.to_hex(),
        key: key.clone(),
        request: request.clone(),
        response: None,
        created_at: DateTime::now(),
    };
    let record_id = record.id;
    match s.idempotency.insert(&record).await {
        Ok(_) => {}
        Err(e) if e.is_duplicate_key() => return replay(&s, id, &key, &request).await,
        Err(e) => return Err(e.into()),
    }

    let amount = input.amount_krw;
    let paid = s
        .invoices
        .update_one(
            doc! { "_id": id, "balance_krw": { "$gte": amount } },
            doc! { "$inc": { "paid_krw": amount, "balance_krw": -amount, "net_paid_krw": amount } },
        )
        .await;
    let invoice = match paid {
        Ok(Some(invoice)) => invoice,
        other => {
            // Nothing was recorded: the key is free for a corrected request.
            s.idempotency.delete(record_id).await?;
            other?;
            let invoice = s
                .invoices
                .get(id)
                .await?
                .ok_or_else(|| not_found("invoice", id))?;
            return Err(
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "overpayment").with_detail(
                    format!(
                        "{} KRW is more than the balance of {} KRW",
                        input.amount_krw, invoice.balance_krw
                    ),
                ),
            );
        }
    };
    let now = DateTime::now();
    let payment = Payment {
        id: ObjectId::new(),
        invoice_id: id.to_hex(),
        amount_krw: amount,
        method: input.method,
        at: now,
        day: s.day_of(now)?,
        kind: "payment".into(),
        reason: None,
    };
    let undo = doc! { "paid_krw": -amount, "balance_krw": amount, "net_paid_krw": -amount };
    if let Err(e) = write_record(&s, id, &payment, undo).await {
        s.idempotency.delete(record_id).await?;
        return Err(e);
    }
    announce(&s, &payment, invoice.balance_krw).await;
    let out = with_payments(&s, invoice).await?;
    let body = serde_json::to_value(out).map_err(ApiError::internal)?;
    s.idempotency
        .set(
            doc! { "_id": record_id },
            doc! { "response": body.to_string() },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(body)))
}

/// The answer to a key seen before: the first answer, if the same payment was asked.
async fn replay(
    s: &ClinicState,
    invoice: ObjectId,
    key: &str,
    request: &str,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let first = s
        .idempotency
        .find_one(doc! { "invoice_id": invoice.to_hex(), "key": key })
        .await?
        .ok_or_else(|| {
            ApiError::conflict("the first request with this Idempotency-Key is still running")
                .with_code("idempotency_in_progress")
        })?;
    if first.request != request {
        return Err(
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
                .with_detail("this Idempotency-Key was used for another payment of this invoice"),
        );
    }
    match first.response {
        Some(body) => {
            let body = serde_json::from_str(&body).map_err(ApiError::internal)?;
            Ok((StatusCode::CREATED, Json(body)))
        }
        None => Err(ApiError::conflict(
            "the first request with this Idempotency-Key is still running",
        )
        .with_code("idempotency_in_progress")),
    }
}

/// Refunds part or all of what was paid. Receptionist or admin. 422 `refund_exceeds_paid`
/// beyond what was paid and not yet refunded.
#[utoipa::path(post, path = "/invoices/{id}/refunds", tag = "invoices", security(("bearer" = [])),
    params(("id" = String, Path, description = "The invoice's id")),
    request_body = NewRefund,
    responses((status = 201, description = "Refunded", body = InvoiceOut),
        (status = 404, description = "No such invoice (`not_found`)"),
        (status = 422, description = "More than paid minus refunded (`refund_exceeds_paid`)")))]
async fn refund(
    State(s): State<ClinicState>,
    user: AuthUser,
    IdPath(id): IdPath,
    ValidJson(input): ValidJson<NewRefund>,
) -> Result<(StatusCode, Json<InvoiceOut>), ApiError> {
    allow(&user, FRONT_DESK)?;
    let amount = input.amount_krw;
    let refunded = s
        .invoices
        .update_one(
            doc! { "_id": id, "net_paid_krw": { "$gte": amount } },
            doc! { "$inc": { "refunded_krw": amount, "balance_krw": amount, "net_paid_krw": -amount } },
        )
        .await?;
    let Some(invoice) = refunded else {
        let current = s
            .invoices
            .get(id)
            .await?
            .ok_or_else(|| not_found("invoice", id))?;
        return Err(
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "refund_exceeds_paid").with_detail(
                format!(
                    "{amount} KRW is more than the {} KRW paid and not yet refunded",
                    current.net_paid_krw
                ),
            ),
        );
    };
    let method = match input.method {
        Some(method) => method,
        None => last_payment_method(&s, id).await?,
    };
    let now = DateTime::now();
    let payment = Payment {
        id: ObjectId::new(),
        invoice_id: id.to_hex(),
        amount_krw: amount,
        method,
        at: now,
        day: s.day_of(now)?,
        kind: "refund".into(),
        reason: Some(input.reason),
    };
    let undo = doc! { "refunded_krw": -amount, "balance_krw": -amount, "net_paid_krw": amount };
    write_record(&s, id, &payment, undo).await?;
    announce(&s, &payment, invoice.balance_krw).await;
    Ok((StatusCode::CREATED, Json(with_payments(&s, invoice).await?)))
}

/// Tells the dashboards of a payment or refund (`payment.recorded`, with its `kind`).
async fn announce(s: &ClinicState, payment: &Payment, balance_krw: i64) {
    let data = serde_json::json!({
        "id": payment.id.to_hex(),
        "invoice_id": payment.invoice_id,
        "amount_krw": payment.amount_krw,
        "method": payment.method,
        "kind": payment.kind,
        "balance_krw": balance_krw,
    });
    s.publish("payment.recorded", data).await;
}

/// The method of the invoice's last payment (a refund goes back the way money came).
async fn last_payment_method(s: &ClinicState, invoice: ObjectId) -> Result<String, DbError> {
    let last = s
        .payments
        .list(
            doc! { "invoice_id": invoice.to_hex(), "kind": "payment" },
            Sort::desc("at"),
            1,
        )
        .await?;
    Ok(last
        .into_iter()
        .next()
        .map_or_else(|| "cash".to_owned(), |p| p.method))
}
